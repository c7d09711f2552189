/**
 * A process killed (SIGKILL) after its authoritative write and before its secondary write leaves a trace: the write's
 * intent, recorded with the authoritative write, which another process's outbox replays (docs/convergence.md). The
 * writer is a real child process (test/fixtures/crash-writer.ts) whose secondary write never returns.
 */
import { fileURLToPath } from "node:url";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import type { EntityValue } from "../src/codec/index.ts";
import { encodeKey } from "../src/outbox/entry.ts";
import { Outbox } from "../src/outbox/index.ts";
import type { Phase } from "../src/phases.ts";
import { SettablePhase, useContractStores } from "../src/testing/index.ts";
import { runFixture } from "./fixtures/child.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const contractPath = fileURLToPath(new URL("../../../contract/store.yaml", import.meta.url));
const testbed = useContractStores(stack, {
  contract: contractPath,
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);
const stores = () => testbed.stores();

/** Runs the crash writer until it has written the authoritative store, then kills it with SIGKILL. */
async function killedBetweenWrites(
  phase: Phase,
  write: { operation: "update" | "delete"; entity: string; key: EntityValue; changes?: EntityValue },
): Promise<void> {
  const writer = runFixture("crash-writer", stack, {
    PHASE: String(phase),
    WRITE: `{"operation":"${write.operation}","entity":"${write.entity}","key":${encodeKey(write.key)},"changes":${encodeKey(write.changes ?? {})}}`,
  });
  await new Promise<void>((resolve, reject) => {
    writer.child.stdout.on("data", () => {
      if (writer.output().stdout.includes("authoritative-written\n")) resolve();
    });
    void writer.exited.then(({ code }) =>
      reject(new Error(`the writer exited (${code}) before its secondary write: ${writer.output().stderr}`)),
    );
  });
  writer.child.kill("SIGKILL");
  expect((await writer.exited).signal).toBe("SIGKILL");
  expect(writer.output().stdout).toBe("authoritative-written\n");
}

/** Another process's outbox, draining everything recorded, due or not (as one would after the intents' grace). */
async function drainAs(phase: Phase): Promise<{ synced: number; remaining: number }> {
  const { mysql, dynamodb } = stores();
  const outbox = new Outbox({
    phase: new SettablePhase(phase),
    codec: testbed.codec(),
    mysql,
    dynamodb,
    mysqlConnection: testbed.pool(),
    controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    log: () => {},
  });
  const { synced, remaining } = await outbox.drain({ force: true });
  return { synced, remaining };
}

describe("a writer killed between its two writes", () => {
  it("phase 3: its delete, lost on DynamoDB, is replayed from its intent: no ghost item, no marker left", async () => {
    const { router } = routing(3);
    const name = `crash_${Date.now() % 100_000}`;
    const user = await router().create<{ id: bigint }>("User", {
      username: name,
      email: `${name}@example.com`,
      passwordHash: "scrypt$x",
      firstName: "Crash",
    });
    await killedBetweenWrites(3, { operation: "delete", entity: "User", key: { id: user.id } });
    expect(await stores().mysql.get("User", { id: user.id })).toBeUndefined();
    expect((await stores().dynamodb.get("User", { id: user.id }))?.username).toBe(name);
    expect(await drainAs(3)).toEqual({ synced: 1, remaining: 0 });
    expect(await stores().dynamodb.get("User", { id: user.id })).toBeUndefined();
    // Its email is free on DynamoDB again.
    const again = await routing(5)
      .router()
      .create<{ email: string }>("User", {
        id: 10n ** 12n + user.id,
        username: `${name}_again`,
        email: `${name}@example.com`,
        passwordHash: "scrypt$x",
        firstName: "Again",
      });
    expect(again.email).toBe(`${name}@example.com`);
  });

  it("phase 4: its update, lost on MySQL, is replayed from its intent", async () => {
    const { router } = routing(3);
    const name = `crash4_${Date.now() % 100_000}`;
    const user = await router().create<{ id: bigint }>("User", {
      username: name,
      email: `${name}@example.com`,
      passwordHash: "scrypt$x",
      firstName: "Before",
    });
    await killedBetweenWrites(4, {
      operation: "update",
      entity: "User",
      key: { id: user.id },
      changes: { firstName: "After" },
    });
    expect((await stores().dynamodb.get("User", { id: user.id }))?.firstName).toBe("After");
    expect((await stores().mysql.get("User", { id: user.id }))?.firstName).toBe("Before");
    expect(await drainAs(4)).toEqual({ synced: 1, remaining: 0 });
    expect((await stores().mysql.get("User", { id: user.id }))?.firstName).toBe("After");
  });
});
