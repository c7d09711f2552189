import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { AuditTrail, ControlCursorError, OperatorStore, PhaseStore } from "../src/control/index.ts";

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
