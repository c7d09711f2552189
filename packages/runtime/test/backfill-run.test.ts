/**
 * The backfill's run on real stores: the store's demo data moved into DynamoDB with every item the live path would
 * write, refused in phase 1, resumed from its checkpoints, re-run without writing again.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { BackfillLedger } from "../src/backfill/index.ts";
import { BackfillRefused, runBackfill } from "../src/backfill/worker.ts";
import { readBackfillStatus } from "../src/control/backfill-status.ts";
import { useContractStores } from "../src/testing/index.ts";
import { rejection } from "./backfill-fixtures.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const services = () => ({
  codec: testbed.codec(),
  mysql: testbed.connection(),
  client: stack.dynamodb(),
  tablePrefix: stack.tablePrefix,
});

describe("ferry backfill run", () => {
  it("is refused in phase 1 with the reason, and writes nothing", async () => {
    const error = await rejection(runBackfill(services(), { contract: "store.yaml", who: "test" }), BackfillRefused);
    expect(error.message).toMatch(/the phase is 1: the backfill needs dual writes \(phase 2 or later\)/);
    expect(await new BackfillLedger(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).runs()).toEqual([]);
  });

  it("refuses an entity the contract does not have", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const error = await rejection(
      runBackfill(services(), { contract: "store.yaml", who: "test", entities: ["Nope"] }),
      BackfillRefused,
    );
    expect(error.message).toBe("the contract has no entity 'Nope'");
  });

  it("moves every row of every entity, with its markers, and finishes the run", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const result = await runBackfill(services(), {
      contract: "store.yaml",
      who: "test",
      pageRows: 7,
      rowsPerSegment: 10,
    });
    expect(result.report.state).toBe("finished");
    expect(result.rejected).toBe(0);
    for (const entity of testbed.codec().entities) {
      expect(await differencesOf(stack, testbed, entity)).toEqual([]);
    }
    const status = await readBackfillStatus(stack.dynamodb(), stack.tablePrefix);
    expect(status?.state).toBe("finished");
    // A unique value is held: the marker is there.
    const { dynamodb, mysql } = testbed.stores();
    const user = (await mysql.list("User", { limit: 1 })).items[0];
    expect(user).toBeDefined();
    const held = await dynamodb.uniqueHolder(
      "User",
      Object.keys(testbed.codec().entity("User").definition.unique ?? {})[0] as string,
      user ?? {},
    );
    expect(held?.owner?.id).toEqual(user?.id);
    expect(result.written).toBe(result.report.written);

    // Again: nothing is written, everything is skipped.
    const again = await runBackfill(services(), { contract: "store.yaml", who: "test" });
    expect(again.written).toBe(0);
    expect(again.skipped).toBe(result.written);
    expect(again.report.state).toBe("finished");
  });
});
