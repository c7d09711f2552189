/**
 * For test files of the generated store (packages/store-data): the demo data in the file's own database, the
 * contract's tables under its own prefix, and `createStore()` over a phase the test sets.
 */
import { applyTables, type SecondaryFailure } from "@ferry/runtime";
import { SettablePhase } from "@ferry/runtime/testing";
import { connectMysql } from "@ferry/stack";
import type { TestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract, createStore } from "@ferry/store-data";
import { afterAll, beforeAll } from "vitest";

export interface GeneratedStore {
  readonly phase: SettablePhase;
  /** Every write the secondary store refused. */
  readonly failures: SecondaryFailure[];
  /** The file's connection (open between beforeAll and afterAll). */
  connection(): Awaited<ReturnType<typeof connectMysql>>;
  store(): ReturnType<typeof createStore>;
}

export function useGeneratedStore(stack: TestStack): GeneratedStore {
  const phase = new SettablePhase();
  const failures: SecondaryFailure[] = [];
  let connection: Awaited<ReturnType<typeof connectMysql>> | undefined;
  let store: ReturnType<typeof createStore> | undefined;
  beforeAll(async () => {
    await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
    connection = await connectMysql(stack.mysqlUrl);
    await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
    store = createStore({
      phase,
      mysql: connection,
      dynamodb: stack.dynamodb(),
      tablePrefix: stack.tablePrefix,
      onSecondaryFailure: (failure) => failures.push(failure),
    });
  });
  afterAll(async () => {
    await connection?.end();
  });
  const opened = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the generated store is ready inside tests only (after beforeAll)");
    return value;
  };
  return { phase, failures, connection: () => opened(connection), store: () => opened(store) };
}
