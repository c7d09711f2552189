import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { REFUSED_LOGIN_TTL_DAYS } from "../src/control/audit-trail.ts";
import {
  AUDIT_TRAIL_PARTITION,
  AuditTrail,
  CONTROL_TTL_ATTRIBUTE,
  ControlCursorError,
  ensureControlTable,
  OperatorStore,
  PhaseStore,
} from "../src/control/index.ts";
import { newestFirst } from "../src/control/table.ts";

const stack = useTestStack();

describe("the audit trail", () => {
  it("holds every phase change (in its transaction) and every account change, newest first, with before and after", async () => {
    const tablePrefix = `${stack.tablePrefix}trail_`;
    let clock = Date.parse("2026-12-04T09:00:00Z");
    const now = () => clock;
    const phases = new PhaseStore(stack.dynamodb(), { tablePrefix, now });
    const operators = new OperatorStore(stack.dynamodb(), { tablePrefix, now });
    const trail = new AuditTrail(stack.dynamodb(), { tablePrefix, now });

    await operators.create({ name: "ada", password: "correct horse battery", role: "operator", by: "cli" });
    clock += 60_000;
    await phases.set(2, { who: "ada", reason: "start dual writes" });
    clock += 60_000;
    await operators.create({ name: "val", password: "viewer's long password", role: "viewer", by: "ada" });
    clock += 60_000;
    await operators.setRole("val", "operator", "ada");
    clock += 60_000;
    await phases.set(3, { who: "val", force: true, reason: "backfilled by hand" });
    clock += 60_000;
    await trail.record({ who: "mallory", kind: "login-refused", what: "wrong name or password", after: "10.0.0.9" });

    const all = await trail.page();
    expect(all.cursor).toBeUndefined();
    expect(
      all.entries.map(({ at, who, kind, what, before, after, reason, forced }) => ({
        at,
        who,
        kind,
        what,
        before,
        after,
        reason,
        forced,
      })),
    ).toEqual([
      {
        at: "2026-12-04T09:05:00.000Z",
        who: "mallory",
        kind: "login-refused",
        what: "wrong name or password",
        before: undefined,
        after: "10.0.0.9",
        reason: undefined,
        forced: undefined,
      },
      {
        at: "2026-12-04T09:04:00.000Z",
        who: "val",
        kind: "phase",
        what: "phase 2 -> 3, forced",
        before: "phase 2 (WRITE_MYSQL on, WRITE_DDB on, READ_MYSQL on, READ_DDB off)",
        after: "phase 3 (WRITE_MYSQL on, WRITE_DDB on, READ_MYSQL on, READ_DDB on)",
        reason: "backfilled by hand",
        forced: true,
      },
      {
        at: "2026-12-04T09:03:00.000Z",
        who: "ada",
        kind: "account",
        what: "operator val made operator",
        before: "val: viewer, active",
        after: "val: operator, active",
        reason: undefined,
        forced: undefined,
      },
      {
        at: "2026-12-04T09:02:00.000Z",
        who: "ada",
        kind: "account",
        what: "operator val created (viewer)",
        before: undefined,
        after: "val: viewer, active",
        reason: undefined,
        forced: undefined,
      },
      {
        at: "2026-12-04T09:01:00.000Z",
        who: "ada",
        kind: "phase",
        what: "phase 1 -> 2",
        before: "phase 1 (WRITE_MYSQL on, WRITE_DDB off, READ_MYSQL on, READ_DDB off)",
        after: "phase 2 (WRITE_MYSQL on, WRITE_DDB on, READ_MYSQL on, READ_DDB off)",
        reason: "start dual writes",
        forced: false,
      },
      {
        at: "2026-12-04T09:00:00.000Z",
        who: "cli",
        kind: "account",
        what: "operator ada created (operator)",
        before: undefined,
        after: "ada: operator, active",
        reason: undefined,
        forced: undefined,
      },
    ]);
    expect(all.entries.find((e) => e.kind === "phase")?.id).toBe("V2");
    expect(JSON.stringify(all.entries)).not.toContain("scrypt$");

    // Filters: by kind, by who, by time (inclusive bounds), together.
    const kinds = (page: Awaited<ReturnType<AuditTrail["page"]>>) => page.entries.map((e) => e.what);
    expect(kinds(await trail.page({ kind: "phase" }))).toEqual(["phase 2 -> 3, forced", "phase 1 -> 2"]);
    expect(kinds(await trail.page({ who: "ada" }))).toEqual([
      "operator val made operator",
      "operator val created (viewer)",
      "phase 1 -> 2",
    ]);
    expect(kinds(await trail.page({ from: "2026-12-04T09:01:00.000Z", to: "2026-12-04T09:03:00.000Z" }))).toEqual([
      "operator val made operator",
      "operator val created (viewer)",
      "phase 1 -> 2",
    ]);
    expect(kinds(await trail.page({ kind: "account", who: "ada", to: "2026-12-04T09:02:30.000Z" }))).toEqual([
      "operator val created (viewer)",
    ]);

    // Pages of two, a cursor each, the same entries in the end; a cursor of one filter is refused by another.
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await trail.page({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.entries.map((e) => e.what));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(kinds(all));
    const first = await trail.page({ limit: 1, kind: "account" });
    await expect(trail.page({ cursor: first.cursor as string, kind: "phase" })).rejects.toBeInstanceOf(
      ControlCursorError,
    );

    const exported: string[] = [];
    for await (const entry of trail.all({ kind: "account" })) exported.push(entry.what);
    expect(exported).toEqual([
      "operator val made operator",
      "operator val created (viewer)",
      "operator ada created (operator)",
    ]);
  });
});

describe("a control-table listing with a filter that matches little", () => {
  it("stops after its reads with a cursor to go on from, and a refused log-in expires", async () => {
    const tablePrefix = `${stack.tablePrefix}trail_reads_`;
    let clock = Date.parse("2026-12-04T10:00:00Z");
    const trail = new AuditTrail(stack.dynamodb(), { tablePrefix, now: () => clock });
    await trail.record({ who: "ada", kind: "login", what: "the one that matches" });
    for (let i = 0; i < 12; i++) {
      clock += 1_000;
      await trail.record({ who: "Mallory", kind: "login-refused", what: `refusal ${i}` });
    }
    const table = await ensureControlTable(stack.dynamodb(), tablePrefix);
    const read = (cursor?: string) =>
      newestFirst(stack.dynamodb(), {
        table,
        partition: AUDIT_TRAIL_PARTITION,
        limit: 1,
        filters: [{ attribute: "kind", value: { S: "login" } }],
        maxReads: 3,
        ...(cursor === undefined ? {} : { cursor }),
      });
    // Two items a read, three reads: six refusals read, none matches; the cursor goes on from there.
    const first = await read();
    expect(first.items).toEqual([]);
    expect(first.cursor).toBeDefined();
    const second = await read(first.cursor);
    expect(second.items).toEqual([]);
    const third = await read(second.cursor);
    expect(third.items.map((item) => item.what?.S)).toEqual(["the one that matches"]);
    expect(third.cursor).toBeUndefined();

    // The name filter ignores case; refused log-ins carry an expiry, other entries none.
    expect((await trail.page({ who: "MALLORY", limit: 100 })).entries).toHaveLength(12);
    const items = (await newestFirst(stack.dynamodb(), { table, partition: AUDIT_TRAIL_PARTITION, limit: 100 })).items;
    const refusal = items.find((item) => item.kind?.S === "login-refused");
    const expected = Math.ceil(Date.parse(refusal?.at?.S ?? "") / 1000) + REFUSED_LOGIN_TTL_DAYS * 86_400;
    expect(refusal?.[CONTROL_TTL_ATTRIBUTE]?.N).toBe(String(expected));
    expect(items.find((item) => item.kind?.S === "login")?.[CONTROL_TTL_ATTRIBUTE]).toBeUndefined();

    // A cursor made by hand outside a listing's range is refused, not sent to DynamoDB.
    const page = await trail.page({ limit: 1, to: "2026-12-04T10:00:05.000Z" });
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(page.cursor as string, "base64url").toString()), sk: "2027" }),
    ).toString("base64url");
    await expect(trail.page({ limit: 1, to: "2026-12-04T10:00:05.000Z", cursor: forged })).rejects.toBeInstanceOf(
      ControlCursorError,
    );
  });
});
