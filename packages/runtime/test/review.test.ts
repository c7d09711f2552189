/**
 * Review findings on the router, the transactions, the shadow reads and the fleet wiring, each shown on real MariaDB
 * and DynamoDB Local.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { type Contract, loadValidContract } from "@ferry/contract";
import { connectMysql, createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { seedStore } from "../../../apps/store/src/index.ts";
import { createTableInputs } from "../../codegen/src/tables/index.ts";
import { addShadowCounts, PhaseChangeRefused, recordValidation } from "../src/control/index.ts";
import { FleetMember } from "../src/fleet-member.ts";

const stack = useTestStack();

let contract: Contract;
let connection: Awaited<ReturnType<typeof connectMysql>>;

beforeAll(async () => {
  contract = await loadValidContract(new URL("../../../contract/store.yaml", import.meta.url).pathname);
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  connection = await connectMysql(stack.mysqlUrl);
  for (const input of createTableInputs(contract, { prefix: stack.tablePrefix })) {
    await stack.dynamodb().send(new CreateTableCommand(input));
  }
});
afterAll(async () => {
  await connection.end();
});

describe("review", () => {
  it("FleetMember: an outbox that cannot be read does not let a store become authoritative (3 -> 4)", async () => {
    // The app's MySQL is unreachable, so the entries waiting for DynamoDB (kept in MySQL) cannot be counted.
    const unreachable = createMysqlPool("mysql://root@127.0.0.1:1/nothing", { connectionLimit: 1 });
    onTestFinished(() => unreachable.end());
    const member = new FleetMember({
      contract,
      mysql: unreachable,
      dynamodb: stack.dynamodb(),
      tablePrefix: `${stack.tablePrefix}review_fleet_`,
      app: "review",
      log: () => {},
    });
    const store = member.phaseStore;
    await store.set(3, { who: "review", force: true, reason: "setup" });
    await recordValidation(store.client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(store.client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    const error = await store.set(4, { who: "review" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseChangeRefused);
    expect((error as PhaseChangeRefused).reasons.join("\n")).toMatch(/outbox for dynamodb cannot be read/);
    expect((await store.get()).phase).toBe(3);
  });
});
