import { CachedPhase } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { form, json, readable, testConsole } from "./console.ts";

const stack = useTestStack();

/** The page's text without tags, spaces collapsed (what a person reads). */
describe("the phase page", () => {
  it("shows the phase, its flags, what is authoritative, the fleet and each move's preconditions", async () => {
    const console = await testConsole(stack, "page");
    const member = new CachedPhase(console.phases, { app: "store", instanceId: "store-1", refreshMs: 600_000 });
    await member.start();
    try {
      const cookie = await console.logIn("val");
      const page = await console.request("/", { cookie });
      expect(page.status).toBe(200);
      const text = readable(await page.text());
      expect(text).toContain("Current phase 1 MySQL only");
      expect(text).toContain("WRITE_MYSQL on WRITE_DDB off READ_MYSQL on READ_DDB off");
      expect(text).toContain("Authoritative: MySQL");
      expect(text).toContain("Version 0 · never changed");
      expect(text).toContain("Move on to phase 2");
      expect(text).toContain("✓ fleet : 1 running process runs version 0");
      expect(text).toContain("Your account is a viewer: an operator makes the move.");
      expect(text).toMatch(/store-1 \S+ store phase 1, version 0 \d+ s ago/);
      expect(text).not.toContain("Move back");

      const api = await (await console.request("/api/phase", { cookie })).json();
      expect(api).toMatchObject({
        phase: 1,
        name: "MySQL only",
        version: 0,
        authoritative: "mysql",
        flags: { WRITE_MYSQL: true, WRITE_DDB: false, READ_MYSQL: true, READ_DDB: false },
        fleet: { allCurrent: true, stale: [] },
        moves: [{ to: 2, direction: "forward", ready: true, typeToConfirm: false }],
      });
      expect(api.moves[0].preconditions.map((p: { name: string }) => p.name)).toEqual(["fleet"]);
      expect(api.fleet.instances.map((i: { instanceId: string }) => i.instanceId)).toEqual(["store-1"]);
    } finally {
      await member.stop();
    }
  });

  it("an operator moves 1 -> 2 -> 3 -> 4 -> 5 with the guard rails of `ferry phase set`, audited under their name", async () => {
    const console = await testConsole(stack, "moves");
    const cookie = await console.logIn("ada");
    const moved = await console.request("/phase", {
      ...form({ to: "2", version: "0", reason: "start dual writes" }),
      cookie,
    });
    expect(moved.status).toBe(303);
    expect(moved.headers.get("location")).toBe("/?moved=2");
    expect(readable(await (await console.request("/?moved=2", { cookie })).text())).toContain("Moved to phase 2.");
    // A link cannot make the page claim a move that did not happen.
    for (const claim of ["5", "1", "", "<b>2</b>"]) {
      const page = readable(await (await console.request(`/?moved=${encodeURIComponent(claim)}`, { cookie })).text());
      expect(page, claim).not.toContain("Moved to phase");
    }
    expect(await console.phases.get()).toMatchObject({ phase: 2, version: 1, updatedBy: "ada" });

    // 2 -> 3 needs a finished backfill: refused, with the reason, next to the move; nothing changes.
    const refused = await console.request("/phase", { ...form({ to: "3", version: "1" }), cookie });
    expect(refused.status).toBe(409);
    const refusal = readable(await refused.text());
    expect(refusal).toContain("Phase 2 -> 3 refused: it needs a finished backfill, and none has been recorded.");
    expect(refusal).toContain("✗ backfill : it needs a finished backfill, and none has been recorded");
    expect((await console.phases.get()).version).toBe(1);

    // Forcing needs a reason: the form comes back with the message by the field and what was typed.
    const noReason = await console.request("/phase", { ...form({ to: "3", version: "1", force: "on" }), cookie });
    expect(noReason.status).toBe(400);
    const noReasonPage = await noReason.text();
    expect(readable(noReasonPage)).toContain("A forced move needs a reason (it goes into the audit log).");
    expect(noReasonPage).toMatch(/<input type="checkbox" name="force" checked/);

    // A decision on an old version is refused (someone else moved first).
    const stale = await console.request("/phase", { ...form({ to: "1", version: "0" }), cookie });
    expect(stale.status).toBe(409);
    expect(readable(await stale.text())).toContain("Someone else changed the phase first");

    const forced = await console.request("/phase", {
      ...form({ to: "3", version: "1", force: "on", reason: "backfilled by hand, ticket 42" }),
      cookie,
    });
    expect(forced.status).toBe(303);
    const history = await console.phases.history();
    expect(history.entries[0]).toMatchObject({
      from: 2,
      to: 3,
      who: "ada",
      forced: true,
      reason: "backfilled by hand, ticket 42",
    });

    // Through the API, the same rules.
    const api = await console.request("/api/phase", {
      ...json({ to: 4, version: 2, force: true, reason: "drill" }),
      cookie,
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ phase: 4 });
    const state = await console.phases.get();

    // 4 -> 5 needs the phase number typed.
    const unconfirmed = await console.request("/phase", {
      ...form({ to: "5", version: String(state.version) }),
      cookie,
    });
    expect(unconfirmed.status).toBe(400);
    expect(readable(await unconfirmed.text())).toContain("Phase 5 is the point of no return: type 5 to confirm.");
    const apiUnconfirmed = await console.request("/api/phase", { ...json({ to: 5, version: state.version }), cookie });
    expect(await apiUnconfirmed.json()).toEqual({
      error: {
        code: "invalid",
        message: "The move was not made.",
        fields: { confirmPhase: "Phase 5 is the point of no return: type 5 to confirm." },
      },
    });
    expect((await console.phases.get()).phase).toBe(4);
    const final = await console.request("/phase", {
      ...form({ to: "5", version: String(state.version), confirmPhase: "5" }),
      cookie,
    });
    expect(final.status).toBe(303);
    expect((await console.phases.get()).phase).toBe(5);

    // Phase 5 locks no one out: the accounts are not in the migrated data.
    const again = await console.logIn("val");
    const page = readable(await (await console.request("/", { cookie: again })).text());
    expect(page).toContain("Current phase 5 DynamoDB only");
    expect(page).toContain("Phase 5 is final");
  });
});
