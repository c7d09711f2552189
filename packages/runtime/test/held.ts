/**
 * A store call held until the test releases it: how tests force one interleaving of two writers deterministically,
 * never with a sleep that hopes.
 */

export interface Held<T> {
  store: T;
  /** Resolves when the held method has been called (and is waiting). */
  entered: Promise<void>;
  release(): void;
}

/** The store with its first call of `method` held until release(); its other calls, and later ones, run at once. */
export function held<T extends object>(store: T, method: keyof T & string): Held<T> {
  let release = () => {};
  let enter = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const entered = new Promise<void>((resolve) => {
    enter = resolve;
  });
  let calls = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== method) return bound;
      return async (...args: unknown[]) => {
        if (calls++ === 0) {
          enter();
          await gate;
        }
        return bound(...args);
      };
    },
  });
  return { store: proxy, entered, release };
}
