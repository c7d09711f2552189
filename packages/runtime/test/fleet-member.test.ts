/**
 * FleetMember: one process of the fleet, its phase store wired to its outbox, on real MariaDB and DynamoDB Local.
 */
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { addShadowCounts, PhaseChangeRefused, recordValidation } from "../src/control/index.ts";
import { FleetMember } from "../src/fleet-member.ts";
import { useContractStores } from "../src/testing/index.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, { contract: new URL("../../../contract/store.yaml", import.meta.url) });

describe("FleetMember", () => {
  it("does not let a store become authoritative while its outbox cannot be read (3 -> 4)", async () => {
    // The app's MySQL is unreachable, so the entries waiting for DynamoDB (kept in MySQL) cannot be counted.
    const unreachable = createMysqlPool("mysql://root@127.0.0.1:1/nothing", { connectionLimit: 1 });
    onTestFinished(() => unreachable.end());
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: unreachable,
      dynamodb: stack.dynamodb(),
      tablePrefix: `${stack.tablePrefix}outbox_unread_`,
      app: "store",
      log: () => {},
    });
    const store = member.phaseStore;
    await store.set(3, { who: "tester@ci", force: true, reason: "setup" });
    await recordValidation(store.client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(store.client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    const error = await store.set(4, { who: "tester@ci" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseChangeRefused);
    expect(error).toMatchObject({
      rule: "precondition",
      from: 3,
      to: 4,
      reasons: [
        "the outbox for dynamodb cannot be read (MySQL table `ferry_outbox` could not be read), so it is unknown whether writes for it still wait",
      ],
    });
    expect((await store.get()).phase).toBe(3);
  });
});
