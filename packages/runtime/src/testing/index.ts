/**
 * @ferry/runtime/testing: what the tests of code built on the runtime share. A phase the test moves by hand, and a
 * test file's stores over a contract: the contract loaded, the file's database prepared by the test (its schema and
 * rows), the contract's DynamoDB tables created under the file's table prefix by applyTables (the one owner of
 * creating them), and entity stores over both.
 */
import { fileURLToPath } from "node:url";
import { type Contract, loadValidContract } from "@ferry/contract";
import { createMysqlPool } from "@ferry/stack";
import type { TestStack } from "@ferry/stack/testing";
import { afterAll, beforeAll } from "vitest";
import { type Codec, createCodec } from "../codec/index.ts";
import { DynamoEntityStore } from "../dynamodb/index.ts";
import { MysqlEntityStore } from "../mysql/index.ts";
import type { Phase, PhaseSource } from "../phases.ts";
import { applyTables } from "../tables/index.ts";

/** A phase the test sets (`phase.value = 4`); every router reading it follows at once. */
export class SettablePhase implements PhaseSource {
  constructor(public value: Phase = 1) {}
  phase(): Phase {
    return this.value;
  }
}

export interface ContractStoresOptions {
  /** The contract file (a path or file: URL). */
  contract: string | URL;
  /** Makes the file's database hold the contract's source tables (and rows), before anything else runs. */
  prepare?: () => Promise<unknown>;
}

/** A test file's stores over a contract; ready inside tests (after beforeAll). */
export interface ContractStores {
  contract(): Contract;
  codec(): Codec;
  /** The file's MySQL connection (the test stack's, closed after the file). */
  connection(): Awaited<ReturnType<TestStack["mysql"]>>;
  /**
   * A small pool over the file's database (made on first use, ended after the file): for an outbox, whose rows must
   * not go on the connection the stores run transactions on.
   */
  pool(): ReturnType<typeof createMysqlPool>;
  /** A MySQL and a DynamoDB entity store over the file's database and tables. */
  stores(): { mysql: MysqlEntityStore; dynamodb: DynamoEntityStore };
}

export function useContractStores(stack: TestStack, options: ContractStoresOptions): ContractStores {
  let ready: { contract: Contract; codec: Codec; connection: Awaited<ReturnType<TestStack["mysql"]>> } | undefined;
  beforeAll(async () => {
    const path = options.contract instanceof URL ? fileURLToPath(options.contract) : options.contract;
    const contract = await loadValidContract(path);
    await options.prepare?.();
    await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
    ready = { contract, codec: createCodec(contract), connection: await stack.mysql() };
  });
  let pool: ReturnType<typeof createMysqlPool> | undefined;
  afterAll(async () => {
    await pool?.end();
  });
  const get = () => {
    if (ready === undefined) throw new Error("the contract's stores are ready inside tests only (after beforeAll)");
    return ready;
  };
  return {
    contract: () => get().contract,
    codec: () => get().codec,
    connection: () => get().connection,
    pool: () => {
      get();
      pool ??= createMysqlPool(stack.mysqlUrl, { connectionLimit: 4 });
      return pool;
    },
    stores: () => {
      const { codec, connection } = get();
      return {
        mysql: new MysqlEntityStore(connection, codec),
        dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }),
      };
    },
  };
}

export { EVERY_TYPE_CONTRACT, EVERY_TYPE_DDL, full, odd, POINT_1_2, sparse } from "./every-type.ts";
