/**
 * Loose<T>: the shape the contract's rules read. It is a type of its own (not the rules') because the rules, the
 * transaction rules, the key helpers and loading all speak it, and none of them should import another just for it.
 */

/**
 * A contract value whose nodes all have the right shape but where anything may be missing: what is left of a file
 * after the schema's rejects are taken out (see checkSchema).
 */
export type Loose<T> = T extends string | number | boolean | bigint
  ? T
  : T extends ReadonlyArray<infer U>
    ? Array<Loose<U> | undefined>
    : T extends object
      ? { [K in keyof T]?: Loose<T[K]> }
      : T;
