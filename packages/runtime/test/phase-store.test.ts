import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, describe, expect, it } from "vitest";
import {
  addShadowCounts,
  CachedPhase,
  InvalidPhaseSettings,
  type PhaseAuditEntry,
  PhaseChangeRefused,
  PhaseConflict,
  PhaseControlError,
  type PhaseState,
  PhaseStore,
  readShadowCounts,
  recordBackfillStatus,
  recordValidation,
} from "../src/control/index.ts";
import { PHASES, type Phase } from "../src/phases.ts";

const stack = useTestStack();
const who = "tester@ci";
const setup = { who, force: true, reason: "test setup" } as const;

/** A phase store of its own (its own control table), so tests do not see each other's changes. */
function freshStore(name: string, options: { staleAfterMs?: number } = {}): PhaseStore {
  return new PhaseStore(stack.dynamodb(), { tablePrefix: `${stack.tablePrefix}${name}_`, ...options });
}

/**
 * A process that never refreshes writes one heartbeat: on CI's loaded cores that one can be older than the 3 s default
 * by the time the move reads the fleet, and the process would count as silent (the move is refused in other words).
 */
const LIVE_ALL_TEST = { staleAfterMs: 600_000 };

/** The refusal `promise` rejects with (failing the test when it is not a PhaseChangeRefused). */
async function refusal(promise: Promise<unknown>): Promise<PhaseChangeRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhaseChangeRefused);
  return error as PhaseChangeRefused;
}

async function allHistory(store: PhaseStore): Promise<PhaseAuditEntry[]> {
  return (await store.history({ limit: 1000 })).entries;
}

const otherClients: ReturnType<typeof dynamoDbClient>[] = [];
afterAll(() => {
  for (const client of otherClients) client.destroy();
});

/** A second process's view: another client, another PhaseStore, the same control table. */
function anotherProcess(store: PhaseStore): PhaseStore {
  const client = dynamoDbClient(stack.dynamodbEndpoint);
  otherClients.push(client);
  return new PhaseStore(client, { tablePrefix: store.tablePrefix });
}

describe("PhaseStore", () => {
  it("is in phase 1, version 0, with the default settings and no history when nothing was ever stored", async () => {
    const store = freshStore("initial");
    expect(await store.get()).toEqual({
      phase: 1,
      flags: PHASES[1].flags,
      shadowSampleRate: 1,
      mismatchThreshold: 0.001,
      minComparisons: 1000,
      version: 0,
    });
    expect(await store.history()).toEqual({ entries: [] });
  });

  it("moves one step at a time, forward and back, bumping the version and auditing each change", async () => {
    const store = freshStore("steps");
    const two = await store.set(2, { who, reason: "start dual writes" });
    expect(two).toMatchObject({ phase: 2, flags: PHASES[2].flags, version: 1, updatedBy: who });
    expect(await store.get()).toEqual(two);
    await store.set(1, { who: "other@ci" });
    await store.set(2, { who });
    await recordBackfillStatus(stack.dynamodb(), store.tablePrefix, { state: "finished" });
    await store.set(3, { who });
    const back = await store.set(2, { who, reason: "shadow reads found a bug" });
    expect(back).toMatchObject({ phase: 2, version: 5 });

    const history = await allHistory(store);
    expect(history.map((e) => [e.version, e.from, e.to, e.who, e.reason, e.forced])).toEqual([
      [5, 3, 2, who, "shadow reads found a bug", false],
      [4, 2, 3, who, undefined, false],
      [3, 1, 2, who, undefined, false],
      [2, 2, 1, "other@ci", undefined, false],
      [1, 1, 2, who, "start dual writes", false],
    ]);
    for (const entry of history) {
      expect(entry.flags, `version ${entry.version}`).toEqual(PHASES[entry.to].flags);
      expect(entry.change).toBe("phase");
      expect(Date.parse(entry.at)).not.toBeNaN();
    }
    expect(history[0]?.at).toBe(back.updatedAt);
  });

  it("refuses to skip a phase, forward or back, and says which step to take", async () => {
    const store = freshStore("skip");
    const forward = await refusal(store.set(3, { who }));
    expect(forward.rule).toBe("step");
    expect(forward.message).toBe("phase 1 -> 3 refused: moves go one step at a time (1 -> 2)");
    await store.set(4, setup);
    const back = await refusal(store.set(2, { who }));
    expect(back.message).toBe("phase 4 -> 2 refused: moves go one step at a time (4 -> 3)");
    expect((await store.get()).phase).toBe(4);
  });

  it("refuses setting the phase it is already in, and anything that is not a phase", async () => {
    const store = freshStore("noop");
    const same = await refusal(store.set(1, { who }));
    expect(same.rule).toBe("no-op");
    expect(same.message).toBe("phase 1 -> 1 refused: the phase is already 1");
    const six = await refusal(store.set(6, { who }));
    expect(six.message).toBe("phase 1 -> 6 refused: 6 is not a phase (1 to 5)");
    const nobody = await refusal(store.set(2, { who: " " }));
    expect(nobody.message).toBe("phase 1 -> 2 refused: a change must say who makes it");
    expect(await store.get()).toMatchObject({ phase: 1, version: 0 });
    expect((await store.history()).entries).toEqual([]);
  });

  it("2 -> 3 needs a finished backfill", async () => {
    const store = freshStore("backfill");
    const client = stack.dynamodb();
    await store.set(2, { who });
    const none = await refusal(store.set(3, { who }));
    expect(none.rule).toBe("precondition");
    expect(none.message).toBe("phase 2 -> 3 refused: it needs a finished backfill, and none has been recorded");

    await recordBackfillStatus(client, store.tablePrefix, { state: "running" });
    expect((await refusal(store.set(3, { who }))).message).toBe(
      "phase 2 -> 3 refused: it needs a finished backfill; the last one is still running",
    );
    await recordBackfillStatus(client, store.tablePrefix, { state: "failed", finishedAt: "2030-01-02T03:04:05.000Z" });
    expect((await refusal(store.set(3, { who }))).message).toBe(
      "phase 2 -> 3 refused: it needs a finished backfill; the last one failed (at 2030-01-02T03:04:05.000Z)",
    );
    expect((await store.get()).phase).toBe(2);

    await recordBackfillStatus(client, store.tablePrefix, { state: "finished" });
    expect(await store.set(3, { who })).toMatchObject({ phase: 3, flags: PHASES[3].flags });
  });

  it("3 -> 4 needs a clean last validation and a shadow mismatch rate below the threshold over enough comparisons", async () => {
    const store = freshStore("cutover");
    const client = stack.dynamodb();
    const prefix = store.tablePrefix;
    await addShadowCounts(client, prefix, { comparisons: 5000, mismatches: 0 });
    await store.set(3, setup);
    // Entering phase 3 started the counters afresh: the 5000 comparisons above do not count.
    expect(await readShadowCounts(client, prefix)).toMatchObject({ comparisons: 0, mismatches: 0 });

    const nothing = await refusal(store.set(4, { who }));
    expect(nothing.rule).toBe("precondition");
    expect(nothing.reasons).toEqual([
      "it needs a clean validation, and none has been recorded",
      "it needs at least 1000 shadow comparisons, and there have been 0",
    ]);

    await recordValidation(client, prefix, { clean: false, mismatches: 3, at: "2030-01-02T03:04:05.000Z" });
    await addShadowCounts(client, prefix, { comparisons: 999, mismatches: 0 });
    expect((await refusal(store.set(4, { who }))).message).toBe(
      "phase 3 -> 4 refused: it needs a clean validation; the last one (at 2030-01-02T03:04:05.000Z) found 3 mismatches; it needs at least 1000 shadow comparisons, and there have been 999",
    );

    await recordValidation(client, prefix, { clean: true, mismatches: 0 });
    expect((await refusal(store.set(4, { who }))).reasons).toEqual([
      "it needs at least 1000 shadow comparisons, and there have been 999",
    ]);

    // 1 in 1000 is not below a threshold of 0.1%.
    await addShadowCounts(client, prefix, { comparisons: 1, mismatches: 1 });
    expect((await refusal(store.set(4, { who }))).reasons).toEqual([
      "the shadow mismatch rate is 0.1% (1 of 1000 comparisons), not below the threshold of 0.1%",
    ]);
    expect((await store.get()).phase).toBe(3);

    await addShadowCounts(client, prefix, { comparisons: 1000, mismatches: 0 });
    expect(await readShadowCounts(client, prefix)).toMatchObject({ comparisons: 2000, mismatches: 1 });
    expect(await store.set(4, { who })).toMatchObject({ phase: 4, flags: PHASES[4].flags });
  });

  it("uses the configured threshold and minimum number of comparisons", async () => {
    const store = freshStore("thresholds");
    const client = stack.dynamodb();
    await store.set(3, setup);
    await recordValidation(client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(client, store.tablePrefix, { comparisons: 10, mismatches: 1 });
    await store.configure({ minComparisons: 10 }, { who });
    expect((await refusal(store.set(4, { who }))).reasons).toEqual([
      "the shadow mismatch rate is 10% (1 of 10 comparisons), not below the threshold of 0.1%",
    ]);
    await store.configure({ mismatchThreshold: 0.2 }, { who });
    expect((await store.set(4, { who })).phase).toBe(4);
  });

  it("4 -> 5 needs confirmation, even when forced; nothing leaves phase 5, even when forced", async () => {
    const store = freshStore("final");
    await store.set(4, setup);
    const unconfirmed = await refusal(store.set(5, { who }));
    expect(unconfirmed.rule).toBe("confirm");
    expect(unconfirmed.message).toBe(
      "phase 4 -> 5 refused: phase 5 is the point of no return (MySQL stops being written) and needs explicit confirmation",
    );
    expect((await refusal(store.set(5, { ...setup }))).rule).toBe("confirm");
    expect((await store.get()).phase).toBe(4);

    expect(await store.set(5, { who, confirm: true })).toMatchObject({ phase: 5, flags: PHASES[5].flags });
    for (const to of [4, 1] as Phase[]) {
      for (const options of [{ who }, setup]) {
        const refused = await refusal(store.set(to, options));
        expect(refused.rule).toBe("final");
        expect(refused.message).toBe(
          `phase 5 -> ${to} refused: nothing leaves phase 5 (DynamoDB only): MySQL is no longer written, so it is out of date`,
        );
      }
    }
    // 1 -> 4 and 4 -> 5 each went through the barrier: an announcement and a commit, a version each.
    expect(await store.get()).toMatchObject({ phase: 5, version: 4 });
  });

  it("forces a move only with a reason, and audits it as forced", async () => {
    const store = freshStore("force");
    for (const reason of [undefined, "", "   "]) {
      const refused = await refusal(store.set(3, { who, force: true, reason }));
      expect(refused.rule).toBe("reason");
      expect(refused.message).toBe("phase 1 -> 3 refused: a forced move needs a reason");
    }
    // Forcing skips the step rule and the preconditions (no backfill was recorded).
    const forced = await store.set(3, { who, force: true, reason: "  backfilled by hand (ticket 42)  " });
    expect(forced).toMatchObject({ phase: 3, version: 1 });
    const [entry] = await allHistory(store);
    expect(entry).toMatchObject({ from: 1, to: 3, forced: true, reason: "backfilled by hand (ticket 42)" });
    expect(entry?.flags).toEqual(PHASES[3].flags);
  });

  it("two concurrent changes from the same version: exactly one wins, the other is a PhaseConflict", async () => {
    const store = freshStore("race");
    const other = anotherProcess(store);
    for (let round = 0; round < 6; round++) {
      const { version, phase } = await store.get();
      const to: Phase = phase === 1 ? 2 : 1;
      const results = await Promise.allSettled([
        store.set(to, { who: "alice", expectedVersion: version }),
        other.set(to, { who: "bob", expectedVersion: version }),
      ]);
      const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      expect(lost, `round ${round}`).toEqual([expect.any(PhaseConflict)]);
      const conflict = lost[0] as PhaseConflict;
      // The loser is told the winner's state, exactly as the winner wrote it.
      expect(won, `round ${round}`).toEqual([conflict.current]);
      const [winner] = won as [PhaseState];
      expect(winner).toMatchObject({ phase: to, version: version + 1 });
      expect(["alice", "bob"]).toContain(winner.updatedBy);
      expect(conflict.expectedVersion).toBe(version);
      expect(conflict.message).toBe(
        `someone else changed the phase first: expected version ${version}, but it is now version ${version + 1} (phase ${to}, set by ${winner.updatedBy} at ${winner.updatedAt}); nothing was written`,
      );
    }
    // Every change is in the audit log once, and only the winners are.
    const history = await allHistory(store);
    expect(history.map((e) => e.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("a change decided on a stale version is a PhaseConflict naming the current phase and version", async () => {
    const store = freshStore("stale");
    await store.set(2, { who: "alice" });
    const error = await store.set(1, { who: "bob", expectedVersion: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseConflict);
    expect((error as PhaseConflict).message).toMatch(
      /^someone else changed the phase first: expected version 0, but it is now version 1 \(phase 2, set by alice at \d{4}-.*Z\); nothing was written$/,
    );
    expect(await store.get()).toMatchObject({ phase: 2, version: 1 });
  });

  it("configure changes the settings as a compare-and-set, audited, and refuses values out of range", async () => {
    const store = freshStore("configure");
    await store.set(2, { who });
    const configured = await store.configure(
      { shadowSampleRate: 0.25, minComparisons: 50 },
      { who: "ops", reason: "less load" },
    );
    expect(configured).toMatchObject({
      phase: 2,
      version: 2,
      shadowSampleRate: 0.25,
      mismatchThreshold: 0.001,
      minComparisons: 50,
      updatedBy: "ops",
    });
    expect(await store.get()).toEqual(configured);
    const [entry] = await allHistory(store);
    expect(entry).toMatchObject({
      version: 2,
      change: "settings",
      from: 2,
      to: 2,
      who: "ops",
      reason: "less load",
      forced: false,
      flags: PHASES[2].flags,
      settings: { shadowSampleRate: 0.25, mismatchThreshold: 0.001, minComparisons: 50 },
    });

    const invalid: [Parameters<PhaseStore["configure"]>[0], string][] = [
      [{ shadowSampleRate: 1.5 }, "shadowSampleRate must be from 0 to 1, got 1.5"],
      [{ mismatchThreshold: -0.1 }, "mismatchThreshold must be from 0 to 1, got -0.1"],
      [{ minComparisons: 2.5 }, "minComparisons must be a whole number of 0 or more, got 2.5"],
      [{}, "no setting to change was given"],
      [{ shadowSampleRate: 0.25 }, "the settings already have these values; nothing to change"],
    ];
    for (const [changes, message] of invalid) {
      const error = await store.configure(changes, { who }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPhaseSettings);
      expect((error as Error).message).toBe(message);
    }
    const stale = await store.configure({ shadowSampleRate: 0.5 }, { who, expectedVersion: 1 }).catch((e) => e);
    expect(stale).toBeInstanceOf(PhaseConflict);
    expect(await store.get()).toEqual(configured);
  });

  it("lists the audit log newest first, a page at a time, with a cursor only while there is more", async () => {
    const store = freshStore("history");
    const moves: Phase[] = [2, 1, 2, 1, 2, 1, 2];
    for (const to of moves) await store.set(to, { who });
    const pages: number[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.history({ limit: 3, ...(cursor === undefined ? {} : { cursor }) });
      pages.push(page.entries.map((e) => e.version));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(pages).toEqual([[7, 6, 5], [4, 3, 2], [1]]);

    // A page that ends exactly at the oldest entry has no cursor.
    expect((await store.history({ limit: 7 })).cursor).toBeUndefined();
    expect((await allHistory(store)).map((e) => e.to)).toEqual([...moves].reverse());

    const malformed = await store.history({ cursor: "not-a-cursor" }).catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(PhaseControlError);
    expect((malformed as PhaseControlError).message).toBe(
      "the history cursor is malformed or belongs to another listing; restart the listing",
    );
    await expect(store.history({ limit: 0 })).rejects.toThrow("a history limit must be a whole number from 1 to 1000");
  });

  it("keeps the phase, its settings and its history across a restart (a new client and PhaseStore)", async () => {
    const store = freshStore("restart");
    await store.set(2, { who });
    await store.configure({ shadowSampleRate: 0.1 }, { who });
    const before = await store.get();
    const restarted = anotherProcess(store);
    expect(await restarted.get()).toEqual(before);
    expect(await restarted.history()).toEqual(await store.history());
    expect(before).toMatchObject({ phase: 2, version: 2, shadowSampleRate: 0.1 });
  });
});

describe("guard rails that hold both ways", () => {
  it("refuses a move while a running process has not picked up the current version", async () => {
    const store = freshStore("lagging", LIVE_ALL_TEST);
    // A process that read the phase once and (for this test) does not refresh again.
    const lagging = new CachedPhase(store, { app: "store", refreshMs: 3_600_000 });
    await lagging.start();
    try {
      await store.set(2, { who, reason: "dual writes" });
      const error = await refusal(store.set(1, { who, reason: "back" }));
      expect(error.reasons).toEqual([
        `1 of 1 running process has not picked up version 1 yet: store@${lagging.state().host} (v0)`,
      ]);
      expect((await refusal(store.set(3, { who }))).reasons[0]).toMatch(/has not picked up version 1/);
      await lagging.refresh();
      await store.set(1, { who, reason: "back" });
    } finally {
      await lagging.stop();
    }
  });

  it("refuses to make a store authoritative while failed writes for it wait in the outbox, either way", async () => {
    const waiting = { mysql: 0, dynamodb: 3 };
    const store = new PhaseStore(stack.dynamodb(), {
      tablePrefix: `${stack.tablePrefix}outbox_`,
      pendingWrites: async (target) => waiting[target],
    });
    await store.set(3, setup);
    await recordValidation(store.client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(store.client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    const error = await refusal(store.set(4, { who }));
    expect(error.reasons).toEqual([
      "3 failed writes for dynamodb still wait in the outbox, and dynamodb is about to become authoritative: let the outbox drain first",
    ]);
    waiting.dynamodb = 0;
    await store.set(4, { who });

    waiting.mysql = 1;
    expect((await refusal(store.set(3, { who, reason: "roll back" }))).reasons).toEqual([
      "1 failed write for mysql still waits in the outbox, and mysql is about to become authoritative: let the outbox drain first",
    ]);
    // Force takes the operator's word for it, and says so in the audit log.
    await store.set(3, { who, force: true, reason: "MySQL's copy was repaired by hand" });
    expect((await store.history({ limit: 1 })).entries[0]).toMatchObject({ from: 4, to: 3, forced: true });
  });
});

describe("records count only for the run of dual writes they were made in", () => {
  it("a backfill begun before 2 -> 1 -> 2 does not open 2 -> 3; one made since does", async () => {
    const store = freshStore("backfill_runs");
    const client = stack.dynamodb();
    expect(await store.set(2, { who })).toMatchObject({ version: 1, dualWriteSince: 1 });
    await recordBackfillStatus(client, store.tablePrefix, { state: "running" });
    await store.set(1, { who, reason: "dual writes broke something" });
    expect((await store.get()).dualWriteSince).toBeUndefined();
    expect(await store.set(2, { who })).toMatchObject({ version: 3, dualWriteSince: 3 });
    // The backfill started in the first run finishes now: it carries that run, and misses what phase 1 wrote.
    expect(await recordBackfillStatus(client, store.tablePrefix, { state: "finished" })).toMatchObject({
      state: "finished",
      dualWriteSince: 1,
    });
    expect((await refusal(store.set(3, { who }))).message).toBe(
      "phase 2 -> 3 refused: it needs a finished backfill made since dual writes last began (at version 3); the last one was made in an earlier run of dual writes (begun at version 1)",
    );
    await recordBackfillStatus(client, store.tablePrefix, { state: "running" });
    expect(await recordBackfillStatus(client, store.tablePrefix, { state: "finished" })).toMatchObject({
      dualWriteSince: 3,
    });
    expect(await store.set(3, { who })).toMatchObject({ phase: 3, version: 4, dualWriteSince: 3 });
  });

  it("a backfill recorded while dual writes were off, and a validation of an earlier run, do not count", async () => {
    const store = freshStore("validation_runs");
    const client = stack.dynamodb();
    await recordBackfillStatus(client, store.tablePrefix, { state: "finished" });
    await store.set(2, { who });
    expect((await refusal(store.set(3, { who }))).reasons).toEqual([
      "it needs a finished backfill made since dual writes last began (at version 1); the last one was recorded while dual writes were off",
    ]);
    await store.set(3, setup);
    await recordValidation(client, store.tablePrefix, { clean: true, mismatches: 0 });
    await store.set(1, setup);
    expect(await store.set(3, setup)).toMatchObject({ version: 4, dualWriteSince: 4 });
    await addShadowCounts(client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    expect((await refusal(store.set(4, { who }))).reasons).toEqual([
      "it needs a clean validation made since dual writes last began (at version 4); the last one was made in an earlier run of dual writes (begun at version 1)",
    ]);
    await recordValidation(client, store.tablePrefix, { clean: true, mismatches: 0 });
    expect(await store.set(4, { who })).toMatchObject({ phase: 4, dualWriteSince: 4 });
  });
});

describe("what each move needs, forward and back", () => {
  it("names the preconditions of every one-step move", async () => {
    const store = new PhaseStore(stack.dynamodb(), {
      tablePrefix: `${stack.tablePrefix}rails_`,
      pendingWrites: async () => 0,
    });
    const names = async (from: Phase, to: Phase) => {
      await store.set(from, setup).catch(() => undefined);
      expect((await store.get()).phase).toBe(from);
      return (await store.preconditions(to)).map((check) => check.name);
    };
    expect(await names(2, 1)).toEqual(["fleet"]);
    expect(await names(1, 2)).toEqual(["fleet"]);
    expect(await names(2, 3)).toEqual(["fleet", "backfill"]);
    expect(await names(3, 2)).toEqual(["fleet"]);
    expect(await names(3, 4)).toEqual(["fleet", "outbox", "validation", "shadow reads"]);
    expect(await names(4, 3)).toEqual(["fleet", "outbox"]);
    expect(await names(4, 5)).toEqual(["fleet"]);
  });

  it("4 -> 3 needs the fleet on the current version, as moves forward do", async () => {
    const store = freshStore("back_fleet", LIVE_ALL_TEST);
    await store.set(4, setup);
    const lagging = new CachedPhase(store, { app: "store", refreshMs: 3_600_000 });
    await lagging.start();
    try {
      await store.configure({ minComparisons: 5 }, { who });
      const version = (await store.get()).version;
      expect((await refusal(store.set(3, { who }))).reasons).toEqual([
        `1 of 1 running process has not picked up version ${version} yet: store@${lagging.state().host} (v${version - 1})`,
      ]);
    } finally {
      await lagging.stop();
    }
  });
});

describe("preconditions are part of the move's transaction", () => {
  it("refuses 3 -> 4 when the validation turns unclean between the check and the write", async () => {
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    otherClients.push(client);
    const store = new PhaseStore(client, { tablePrefix: `${stack.tablePrefix}atomic_` });
    await store.set(3, setup);
    await recordValidation(client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    // Just before the move's transaction is sent, a validation run records a mismatch (through another client).
    let raced = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand" && !raced) {
          raced = true;
          await recordValidation(stack.dynamodb(), store.tablePrefix, { clean: false, mismatches: 3 });
        }
        return next(args);
      },
      { step: "initialize", name: "raceValidation" },
    );
    const error = await refusal(store.set(4, { who }));
    expect(raced).toBe(true);
    expect(error.rule).toBe("precondition");
    expect(error.reasons[0]).toMatch(/stopped holding while the move was being made/);
    expect((await store.get()).phase).toBe(3);
    // Asked again, the unmet precondition is named.
    expect((await refusal(store.set(4, { who }))).reasons).toEqual([
      expect.stringMatching(/the last one .* found 3 mismatches/),
    ]);
  });
});
