/**
 * For test files of the generated store (packages/store-data): the demo data in the file's own database, the
 * contract's tables under its own prefix, and `createStore()` over a phase the test sets.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import type { Phase, PhaseSource, SecondaryFailure } from "@ferry/runtime";
import { connectMysql } from "@ferry/stack";
import type { TestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract, createStore } from "@ferry/store-data";
import { afterAll, beforeAll } from "vitest";
import { createTableInputs } from "../src/tables/index.ts";

/** A phase the test moves by hand. */
export class SettablePhase implements PhaseSource {
  value: Phase = 1;
  phase(): Phase {
    return this.value;
  }
}

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
    for (const input of createTableInputs(contract, { prefix: stack.tablePrefix })) {
      await stack.dynamodb().send(new CreateTableCommand(input));
    }
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
