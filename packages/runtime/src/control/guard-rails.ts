/**
 * The guard rails of a phase move (docs/architecture.md, "Phases"), each precondition stated once: what it needs,
 * what it found (met or not, and why, in one sentence), and, for the records in the control table (backfill,
 * validation, shadow counts), the condition the move's transaction carries so that what was checked still holds when
 * the move is written. The fleet and the outbox are checked only: a process that starts, or a write that fails,
 * between the check and the write is not seen by it; for a move that changes the authoritative store the barrier
 * (./phase-store.ts) closes that gap, and the outbox is checked again when the move is committed.
 *
 * What each move needs is the table MOVE_RAILS below, forward and back alike.
 */
import type { DynamoDBClient, TransactWriteItem } from "@aws-sdk/client-dynamodb";
import { PHASES, type Phase, type StoreName } from "../phases.ts";
import { BACKFILL_STATUS_KEY, readBackfillStatus } from "./backfill-status.ts";
import { readFleet } from "./heartbeats.ts";
import type { PhaseState } from "./phase-state.ts";
import { readShadowCounts, SHADOW_COUNTERS_KEY } from "./shadow-counts.ts";
import { controlKey } from "./table.ts";
import { readValidation, VALIDATION_KEY } from "./validation-result.ts";

/** One precondition of a move, as checked now. */
export interface Precondition {
  /** What it is about: "fleet", "outbox", "backfill", "validation" or "shadow reads". */
  name: string;
  met: boolean;
  /** One sentence: what it needs and what was found. */
  reason: string;
  /** Carried by the move's transaction, so that the precondition still holds when the move is written. */
  condition?: TransactWriteItem;
}

export interface GuardRailContext {
  client: DynamoDBClient;
  tablePrefix: string;
  /** The control table's name. */
  table: string;
  from: Phase;
  to: Phase;
  /** The phase as stored now. */
  current: PhaseState;
  /** How many failed writes wait in the outbox for a store; without it the outbox is not checked. */
  pendingWrites?: (store: StoreName, options: { inFlight: boolean }) => Promise<number>;
  /** A process not heard from for longer is not live (it counts while silent: its write lease). */
  staleAfterMs?: number;
  /** How much longer than its heartbeat says a silent process's lease is taken to run (default 2 s). */
  leaseMarginMs?: number;
  /** The clock the fleet is judged by (default Date.now). */
  now?: () => number;
  /**
   * Checked again at the commit of an announced move (the barrier): the fleet is then judged by its acks, not by the
   * version it runs, so the fleet rail is left out.
   */
  atCommit?: boolean;
}

/** A guard rail: the preconditions it puts on the move, none when the move is not its concern. */
type GuardRail = (context: GuardRailContext) => Promise<Precondition[]>;

const fleetOnCurrentVersion: GuardRail = async (context) => {
  const { client, tablePrefix, current, staleAfterMs, leaseMarginMs, now, atCommit } = context;
  if (atCommit) return [];
  const view = await readFleet(client, tablePrefix, current, {
    ...(staleAfterMs === undefined ? {} : { staleAfterMs }),
    ...(leaseMarginMs === undefined ? {} : { leaseMarginMs }),
    ...(now === undefined ? {} : { now }),
  });
  const behind = view.instances.filter((instance) => !instance.current);
  // A silent process behind may still be writing under an older phase: the move waits for it to come back or for its
  // write lease to run out (a silent one on the current version is like a live one about to refresh).
  const silentBehind = view.silent.filter((instance) => !instance.current);
  if (silentBehind.length > 0) {
    const names = silentBehind
      .map(
        (instance) =>
          `${instance.app}@${instance.host} (v${instance.versionSeen}, not heard from since ${instance.lastSeen}, may write until ${instance.writesUntil})`,
      )
      .join(", ");
    return [
      {
        name: "fleet",
        met: false,
        reason: `${silentBehind.length} silent ${plural(silentBehind.length, "process has", "processes have")} not picked up version ${current.version} and may still write under an older phase: ${names}; it stops by itself when its write lease runs out`,
      },
    ];
  }
  if (behind.length === 0) {
    const count = view.instances.length;
    return [
      {
        name: "fleet",
        met: true,
        reason: `${count} running ${plural(count, "process runs", "processes run")} version ${current.version}`,
      },
    ];
  }
  const names = behind.map((instance) => `${instance.app}@${instance.host} (v${instance.versionSeen})`).join(", ");
  const count = view.instances.length;
  return [
    {
      name: "fleet",
      met: false,
      reason: `${behind.length} of ${count} running ${plural(count, "process has", "processes have")} not picked up version ${current.version} yet: ${names}`,
    },
  ];
};

const outboxDrained: GuardRail = async ({ to, pendingWrites }) => {
  const becoming = PHASES[to].authoritative;
  if (pendingWrites === undefined) return [];
  let waiting: number;
  try {
    waiting = await pendingWrites(becoming, { inFlight: false });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return [
      {
        name: "outbox",
        met: false,
        reason: `the outbox for ${becoming} cannot be read (${why}), so it is unknown whether writes for it still wait`,
      },
    ];
  }
  if (waiting === 0) {
    return [{ name: "outbox", met: true, reason: `no failed write for ${becoming} waits in the outbox` }];
  }
  return [
    {
      name: "outbox",
      met: false,
      reason: `${waiting} failed ${plural(waiting, "write", "writes")} for ${becoming} still ${waiting === 1 ? "waits" : "wait"} in the outbox, and ${becoming} is about to become authoritative: let the outbox drain first`,
    },
  ];
};

const backfillFinished: GuardRail = async ({ client, tablePrefix, table, current }) => {
  const backfill = await readBackfillStatus(client, tablePrefix);
  const unmet = (reason: string): Precondition[] => [{ name: "backfill", met: false, reason }];
  if (backfill === undefined) return unmet("it needs a finished backfill, and none has been recorded");
  if (backfill.state === "running") return unmet("it needs a finished backfill; the last one is still running");
  if (backfill.state === "failed") {
    return unmet(`it needs a finished backfill; the last one failed (at ${backfill.finishedAt ?? backfill.at})`);
  }
  const otherRun = madeInAnotherRun(backfill.dualWriteSince, current);
  if (otherRun !== undefined) return unmet(`it needs a finished backfill ${otherRun}`);
  return [
    {
      name: "backfill",
      met: true,
      reason: `the last backfill finished (at ${backfill.finishedAt ?? backfill.at})`,
      condition: {
        ConditionCheck: {
          TableName: table,
          Key: controlKey(BACKFILL_STATUS_KEY),
          ConditionExpression: "#state = :finished AND #since = :since",
          ExpressionAttributeNames: { "#state": "state", "#since": "dualWriteSince" },
          ExpressionAttributeValues: {
            ":finished": { S: "finished" },
            ":since": { N: String(current.dualWriteSince) },
          },
        },
      },
    },
  ];
};

const validationClean: GuardRail = async ({ client, tablePrefix, table, current }) => {
  const validation = await readValidation(client, tablePrefix);
  if (validation === undefined) {
    return [{ name: "validation", met: false, reason: "it needs a clean validation, and none has been recorded" }];
  }
  if (!validation.clean) {
    const found = `${validation.mismatches} ${plural(validation.mismatches, "mismatch", "mismatches")}`;
    return [
      {
        name: "validation",
        met: false,
        reason: `it needs a clean validation; the last one (at ${validation.at}) found ${found}`,
      },
    ];
  }
  const otherRun = madeInAnotherRun(validation.dualWriteSince, current);
  if (otherRun !== undefined) {
    return [{ name: "validation", met: false, reason: `it needs a clean validation ${otherRun}` }];
  }
  return [
    {
      name: "validation",
      met: true,
      reason: `the last validation (at ${validation.at}) was clean`,
      condition: {
        ConditionCheck: {
          TableName: table,
          Key: controlKey(VALIDATION_KEY),
          ConditionExpression: "#clean = :clean AND #since = :since",
          ExpressionAttributeNames: { "#clean": "clean", "#since": "dualWriteSince" },
          ExpressionAttributeValues: { ":clean": { BOOL: true }, ":since": { N: String(current.dualWriteSince) } },
        },
      },
    },
  ];
};

const shadowReadsAgree: GuardRail = async ({ client, tablePrefix, table, current }) => {
  const shadow = await readShadowCounts(client, tablePrefix);
  if (shadow.comparisons < current.minComparisons) {
    return [
      {
        name: "shadow reads",
        met: false,
        reason: `it needs at least ${current.minComparisons} shadow ${plural(current.minComparisons, "comparison", "comparisons")}, and there ${shadow.comparisons === 1 ? "has" : "have"} been ${shadow.comparisons}`,
      },
    ];
  }
  const rate = shadow.mismatches / shadow.comparisons;
  const measured = `the shadow mismatch rate is ${percent(rate)} (${shadow.mismatches} of ${shadow.comparisons} comparisons)`;
  if (!(rate < current.mismatchThreshold)) {
    return [
      {
        name: "shadow reads",
        met: false,
        reason: `${measured}, not below the threshold of ${percent(current.mismatchThreshold)}`,
      },
    ];
  }
  return [
    {
      name: "shadow reads",
      met: true,
      reason: `${measured}, below the threshold of ${percent(current.mismatchThreshold)}`,
      // No mismatch counted since the rate was read: comparisons only grow, so the rate can only have dropped.
      condition: {
        ConditionCheck: {
          TableName: table,
          Key: controlKey(SHADOW_COUNTERS_KEY),
          ConditionExpression: "attribute_not_exists(#mismatches) OR #mismatches <= :seen",
          ExpressionAttributeNames: { "#mismatches": "mismatches" },
          ExpressionAttributeValues: { ":seen": { N: String(shadow.mismatches) } },
        },
      },
    },
  ];
};

/**
 * What each move needs, forward and back, stated once (a forced move skips them all; only one-step moves are listed,
 * as only they are made unforced). Every move needs the whole fleet on the current version: a process still routing
 * by the phase before would, e.g., write one store only while the others read the other.
 *
 * - 1 -> 2 (dual writes start), 2 -> 1 (they stop): the fleet only.
 * - 2 -> 3: a finished backfill made in the current run of dual writes (not one from before a 2 -> 1 -> 2).
 * - 3 -> 2: the fleet only: shadow reads stop, MySQL stays authoritative, both stores are still written.
 * - 3 -> 4 (DynamoDB becomes authoritative): no failed write for DynamoDB waiting in the outbox (it would serve stale
 *   data), a clean validation made in the current run of dual writes, and a shadow mismatch rate below the threshold
 *   over at least `minComparisons` comparisons (no mismatch may be counted between the check and the move).
 * - 4 -> 3 (MySQL becomes authoritative again): no failed write for MySQL waiting in the outbox.
 * - 4 -> 5: the fleet only (and, in PhaseStore.set, explicit confirmation): MySQL stops being written.
 *
 * The moves that change the authoritative store (3 -> 4, 4 -> 3) and 4 -> 5 go through the barrier
 * (PhaseStore.set), which checks the outbox, the backfill, the validation and the shadow reads again at the commit.
 */
const MOVE_RAILS: Readonly<Record<string, readonly GuardRail[]>> = {
  "1->2": [fleetOnCurrentVersion],
  "2->1": [fleetOnCurrentVersion],
  "2->3": [fleetOnCurrentVersion, backfillFinished],
  "3->2": [fleetOnCurrentVersion],
  "3->4": [fleetOnCurrentVersion, outboxDrained, validationClean, shadowReadsAgree],
  "4->3": [fleetOnCurrentVersion, outboxDrained],
  "4->5": [fleetOnCurrentVersion],
};

/** The preconditions of the move from `context.from` to `context.to`, each checked now. */
export async function checkPreconditions(context: GuardRailContext): Promise<Precondition[]> {
  const rails = MOVE_RAILS[`${context.from}->${context.to}`] ?? [fleetOnCurrentVersion];
  const checks: Precondition[] = [];
  for (const rail of rails) checks.push(...(await rail(context)));
  return checks;
}

/**
 * Why a record (backfill, validation) made in run `made` of dual writes does not count now, or undefined when it does:
 * it must come from the run the phase item is in (PhaseState.dualWriteSince), since writes made while dual writes were
 * off reached MySQL only.
 */
function madeInAnotherRun(made: number | undefined, current: PhaseState): string | undefined {
  const now = current.dualWriteSince;
  if (now !== undefined && made === now) return undefined;
  const needed =
    now === undefined
      ? "made since dual writes last began (the phase item does not say when: it was written before ferry recorded it)"
      : `made since dual writes last began (at version ${now})`;
  const found =
    made === undefined
      ? "was recorded while dual writes were off"
      : `was made in an earlier run of dual writes (begun at version ${made})`;
  return `${needed}; the last one ${found}`;
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}
