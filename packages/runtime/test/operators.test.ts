import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import {
  controlKey,
  controlTableName,
  OPERATOR_PARTITION,
  OperatorAccountError,
  OperatorStore,
  PhaseStore,
  sharedSecret,
} from "../src/control/index.ts";

const stack = useTestStack();

let clock = Date.parse("2026-12-04T10:00:00Z");
function freshStore(name: string): OperatorStore {
  return new OperatorStore(stack.dynamodb(), { tablePrefix: `${stack.tablePrefix}${name}_`, now: () => clock });
}

async function refused(promise: Promise<unknown>): Promise<OperatorAccountError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperatorAccountError);
  return error as OperatorAccountError;
}

describe("operator accounts in the control table", () => {
  it("creates an account with a scrypt hash, never the password, and authenticates it", async () => {
    const store = freshStore("op_create");
    const made = await store.create({ name: "ada", password: "correct horse battery", role: "operator", by: "cli" });
    expect(made).toEqual({
      name: "ada",
      role: "operator",
      disabled: false,
      createdAt: "2026-12-04T10:00:00.000Z",
      createdBy: "cli",
      changedAt: "2026-12-04T10:00:00.000Z",
      sessions: clock,
    });
    const raw = await stack.dynamodb().send(
      new GetItemCommand({
        TableName: controlTableName(`${stack.tablePrefix}op_create_`),
        Key: controlKey({ pk: OPERATOR_PARTITION, sk: "ada" }),
      }),
    );
    const hash = raw.Item?.passwordHash?.S ?? "";
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(JSON.stringify(raw.Item)).not.toContain("correct horse");
    expect(await store.authenticate("ada", "correct horse battery")).toEqual(made);
    expect(await store.authenticate("ada", "correct horse batterY")).toBeUndefined();
    expect(await store.authenticate("bob", "correct horse battery")).toBeUndefined();
    expect(await store.authenticate("ADA; drop", "correct horse battery")).toBeUndefined();
    expect(await store.get("ada")).toEqual(made);
    expect(await store.get("bob")).toBeUndefined();
  });

  it("refuses a taken name, a bad name, a short password and an unknown role, writing nothing", async () => {
    const store = freshStore("op_refuse");
    await store.create({ name: "ada", password: "correct horse battery", role: "viewer", by: "cli" });
    expect(
      (await refused(store.create({ name: "ada", password: "another long one", role: "operator", by: "x" }))).reason,
    ).toBe("exists");
    expect((await store.get("ada"))?.role).toBe("viewer");
    expect(
      (await refused(store.create({ name: "A", password: "correct horse battery", role: "viewer", by: "x" }))).reason,
    ).toBe("name");
    const short = await refused(store.create({ name: "bob", password: "short", role: "viewer", by: "x" }));
    expect(short.reason).toBe("password");
    expect(short.message).toBe("a password has at least 12 characters");
    const role = await refused(
      store.create({ name: "bob", password: "correct horse battery", role: "admin" as "viewer", by: "x" }),
    );
    expect(role.message).toBe("a role is one of viewer, operator");
    expect((await store.list()).map((o) => o.name)).toEqual(["ada"]);
  });

  it("a new password, a new role and disabling end the account's sessions; the last operator is kept", async () => {
    const store = freshStore("op_change");
    await store.create({ name: "ada", password: "correct horse battery", role: "operator", by: "cli" });
    const bob = await store.create({ name: "bob", password: "staple of the battery", role: "viewer", by: "ada" });
    expect(bob.sessions).toBe(clock);
    clock += 60_000;
    const promoted = await store.setRole("bob", "operator", "ada");
    // Each change starts a new session generation (sessions carry theirs).
    expect(promoted).toMatchObject({ role: "operator", sessions: bob.sessions + 1 });
    expect(promoted.changedAt).toBe(new Date(clock).toISOString());
    clock += 60_000;
    expect((await store.setDisabled("ada", true, "bob")).disabled).toBe(true);
    expect(await store.authenticate("ada", "correct horse battery")).toBeUndefined();
    // bob is now the only active operator.
    const last = await refused(store.setRole("bob", "viewer", "bob"));
    expect(last.reason).toBe("last-operator");
    expect((await refused(store.setDisabled("bob", true, "bob"))).reason).toBe("last-operator");
    expect((await store.get("bob"))?.role).toBe("operator");
    clock += 60_000;
    const renewed = await store.setPassword("bob", "a brand new passphrase", "bob");
    expect(renewed.sessions).toBe(promoted.sessions + 1);
    const loggedOut = await store.endSessions("bob");
    expect(loggedOut.sessions).toBe(renewed.sessions + 1);
    // A log-out is not a change to the account.
    expect(loggedOut.changedAt).toBe(renewed.changedAt);
    expect(await store.authenticate("bob", "staple of the battery")).toBeUndefined();
    expect((await store.authenticate("bob", "a brand new passphrase"))?.name).toBe("bob");
    expect((await refused(store.setPassword("nobody", "a brand new passphrase", "bob"))).reason).toBe("missing");
    expect((await refused(store.setRole("nobody", "operator", "bob"))).reason).toBe("missing");
  });

  it("lives in the control table beside the phase, which phase 5 keeps", async () => {
    const prefix = `${stack.tablePrefix}op_phase_`;
    const operators = new OperatorStore(stack.dynamodb(), { tablePrefix: prefix });
    const phases = new PhaseStore(stack.dynamodb(), { tablePrefix: prefix });
    await operators.create({ name: "ada", password: "correct horse battery", role: "operator", by: "cli" });
    for (const to of [2, 3, 4, 5]) await phases.set(to, { who: "ada", force: true, reason: "test", confirm: to === 5 });
    expect((await phases.get()).phase).toBe(5);
    expect((await operators.authenticate("ada", "correct horse battery"))?.role).toBe("operator");
  });
});

describe("a shared secret in the control table", () => {
  it("is made once, by whichever process asks first, and every later ask gets the same", async () => {
    const prefix = `${stack.tablePrefix}secret_`;
    const asked = await Promise.all([1, 2, 3, 4].map(() => sharedSecret(stack.dynamodb(), prefix, "admin-session")));
    expect(new Set(asked).size).toBe(1);
    expect(asked[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sharedSecret(stack.dynamodb(), prefix, "admin-session")).toBe(asked[0]);
    expect(await sharedSecret(stack.dynamodb(), prefix, "another")).not.toBe(asked[0]);
  });
});
