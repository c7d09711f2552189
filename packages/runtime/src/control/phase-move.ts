/**
 * The barrier of a move that changes the authoritative store (docs/architecture.md, "Phases"; PhaseStore.set uses it):
 * announce it, wait for the fleet to take it with no write (or replay of the outbox) in flight under the old phase and
 * for the outbox of the store becoming authoritative to drain, check the preconditions again, then commit; cancel it
 * otherwise.
 */
import type { DynamoDBClient, TransactWriteItem } from "@aws-sdk/client-dynamodb";
import { PHASES, type Phase, type StoreName } from "../phases.ts";
import type { PhaseChangeKind } from "./audit-log.ts";
import type { Precondition } from "./guard-rails.ts";
import { DEFAULT_LEASE_MARGIN_MS, type FleetView, readFleet } from "./heartbeats.ts";
import { PhaseChangeRefused, PhaseConflict, PhaseControlError, PhaseMoveTimedOut } from "./phase-errors.ts";
import type { PendingMove, PhaseSettings, PhaseState } from "./phase-state.ts";

export interface BarrierOptions {
  /**
   * How many failed writes wait in the outbox for a store (Outbox.metrics), with `inFlight` the intents of writes
   * still being copied too. Given one, a move that makes a store authoritative (3 -> 4, 4 -> 3) is refused while
   * failed writes for it wait (it would serve stale data), and once the fleet has no write in flight the move waits
   * until none is left either way. The CLI and FleetMember give it.
   */
  pendingWrites?: (store: StoreName, options: { inFlight: boolean }) => Promise<number>;
  /** A process not heard from for this long is taken to be gone, by the fleet guard rail and fleet() (default 3 s). */
  staleAfterMs?: number;
  /**
   * How much longer than its heartbeat says a silent process's write lease is taken to run (default 2 s: keep it above
   * the clock skew between hosts and a write's latency).
   */
  leaseMarginMs?: number;
  /** How often an announced move reads the fleet's acks (default 50 ms). */
  movePollMs?: number;
  /**
   * An announced move is committed only this long before its deadline, at the latest, by the mover's clock; processes
   * cancel it once the deadline has passed by theirs (default 2 s: keep it above the clock skew and a write's latency).
   * The commit and the cancellation are compare-and-sets of the same version, so only one of them can happen.
   */
  moveMarginMs?: number;
}

/** What the barrier needs of the PhaseStore that moves. */
export interface BarrierParts {
  client: DynamoDBClient;
  tablePrefix: string;
  options: BarrierOptions;
  now: () => number;
  /** Writes a change of the phase item and its audit entry (compare-and-set on `current.version`). */
  write: (current: PhaseState, change: Change) => Promise<PhaseState>;
  cancelMove: (announced: PhaseState, who: string, reason: string) => Promise<PhaseState>;
  preconditions: (to: Phase, current: PhaseState, atCommit: boolean) => Promise<Precondition[]>;
}

/** A change to write: the phase it goes to (the same one for a settings change) and what the audit entry says. */
export interface Change {
  who: string;
  change: PhaseChangeKind;
  /** The phase after the change. */
  to: Phase;
  /** The phase the audit entry names as `to` (an announcement's or cancellation's target); default `to`. */
  auditTo?: Phase;
  /** The announced move the phase item carries after the change (an announcement's). */
  pending?: PendingMove;
  forced: boolean;
  reason: string | undefined;
  settings: PhaseSettings;
  /** Conditions the move was decided on (its preconditions): they must still hold when it is written. */
  guards: TransactWriteItem[];
}

/** What an announced move waits for: the live processes that are not ready yet (none: it commits now). */
export interface MoveProgress {
  from: Phase;
  to: Phase;
  /** The version of the announcement (before it: the version the move starts from). */
  version: number;
  /** False while the move waits for silent processes before it is announced. */
  announced: boolean;
  deadline: string;
  /** Live processes seen. */
  live: number;
  /** One line per process not ready yet: who, and what it has not done. */
  waitingFor: string[];
}

/** How long an announced move waits for the fleet unless told otherwise. */
export const DEFAULT_MOVE_WAIT_MS = 30_000;
const DEFAULT_MOVE_POLL_MS = 50;
const DEFAULT_MOVE_MARGIN_MS = 2_000;
/** Time left for the fleet to get ready after the last silent process's lease, or the move is not announced. */
const MIN_READY_MS = 1_000;

/**
 * Whether a move goes through the barrier: it changes the authoritative store (3 <-> 4, and forced moves across), or it
 * stops MySQL being written (4 -> 5). Within one authoritative store (1 <-> 2 <-> 3) a move is one compare-and-set.
 */
export function movesAuthority(from: Phase, to: Phase): boolean {
  return PHASES[from].authoritative !== PHASES[to].authoritative || (to === 5 && from !== 5);
}

/**
 * The barrier of a move that changes the authoritative store (docs/architecture.md, "Phases"):
 * 0. wait, holding nothing, until no silent process may still write (PhaseMoveTimedOut, nothing announced, when a
 *    lease outlasts the wait);
 * 1. announce it: the phase item records the move, its target and a deadline (compare-and-set, audited, with the
 *    preconditions' conditions);
 * 2. wait until every live process has taken the announcement (it holds new writes) and has no write in flight under
 *    the old phase, as their heartbeats say, and until every silent one is back (and has) or its write lease is over;
 * 3. check the preconditions again (the outbox may have received a write that failed while the fleet drained) and
 *    commit the new phase (compare-and-set on the announcement's version), before the deadline minus the margin.
 * Otherwise the move is cancelled (compare-and-set, audited) and PhaseMoveTimedOut or PhaseChangeRefused thrown;
 * processes that find the deadline passed cancel it themselves, so a commit after they resumed cannot happen.
 */
export async function moveThroughBarrier(
  parts: BarrierParts,
  current: PhaseState,
  move: Change,
  options: { waitMs?: number; onProgress?: (progress: MoveProgress) => void },
): Promise<PhaseState> {
  const waitMs = options.waitMs ?? DEFAULT_MOVE_WAIT_MS;
  if (!Number.isFinite(waitMs) || waitMs <= 0) {
    throw new PhaseControlError(`the wait for the fleet must be a positive number of milliseconds, got ${waitMs}`);
  }
  const margin = parts.options.moveMarginMs ?? DEFAULT_MOVE_MARGIN_MS;
  if (waitMs <= margin) {
    throw new PhaseControlError(
      `the wait for the fleet (${waitMs} ms) must be longer than the margin kept before its deadline (${margin} ms)`,
    );
  }
  const deadlineMs = parts.now() + waitMs;
  const deadline = new Date(deadlineMs).toISOString();
  const from = current.phase;
  const to = move.to;
  const lastCommitAt = deadlineMs - margin;
  const pause = () => new Promise((resolve) => setTimeout(resolve, parts.options.movePollMs ?? DEFAULT_MOVE_POLL_MS));
  // Silent processes first, before anything is announced: the fleet would hold its writes while the move waits for
  // them (a process that died without saying goodbye is waited for until its write lease runs out).
  for (;;) {
    const view = await readFleet(parts.client, parts.tablePrefix, current, {
      now: parts.now,
      ...(parts.options.staleAfterMs === undefined ? {} : { staleAfterMs: parts.options.staleAfterMs }),
      ...(parts.options.leaseMarginMs === undefined ? {} : { leaseMarginMs: parts.options.leaseMarginMs }),
    });
    if (view.silent.length === 0) break;
    const silent = view.silent.map(
      (instance) =>
        `${instance.app}@${instance.host} (${instance.instanceId}) has not been heard from since ${instance.lastSeen} and may write under phase ${from} until ${instance.writesUntil} (nothing announced yet)`,
    );
    const lastLease = Math.max(...view.silent.map((instance) => Date.parse(instance.writesUntil)));
    if (lastLease + (parts.options.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS) >= lastCommitAt - MIN_READY_MS) {
      // Its lease outlasts the wait (leaving the fleet too little time to get ready after it): nothing is announced.
      throw new PhaseMoveTimedOut(from, to, silent, deadline, false);
    }
    try {
      options.onProgress?.({
        from,
        to,
        version: current.version,
        announced: false,
        deadline,
        live: view.instances.length,
        waitingFor: silent,
      });
    } catch {
      // A failing progress report changes nothing here.
    }
    await pause();
  }
  const pending: PendingMove = { to, deadline, by: move.who, forced: move.forced };
  if (move.reason !== undefined) pending.reason = move.reason;
  const announced = await parts.write(current, {
    ...move,
    change: "announce",
    to: from,
    auditTo: to,
    pending,
  });
  const cancel = async (why: string): Promise<void> => {
    await parts.cancelMove(announced, move.who, why).catch(() => undefined);
  };
  const report = (live: number, waitingFor: string[]): void => {
    try {
      options.onProgress?.({
        from,
        to,
        version: announced.version,
        announced: true,
        deadline,
        live,
        waitingFor: [...waitingFor],
      });
    } catch {
      // A failing progress report must not leave the move announced.
    }
  };
  let waitingFor: string[] = [];
  let live = 0;
  // The fleet's replays of the outbox are writes in flight too (beginReplay): once the outbox had to be waited for,
  // the fleet is looked at again, until both are found settled one after the other.
  for (;;) {
    for (;;) {
      let view: FleetView;
      try {
        view = await readFleet(parts.client, parts.tablePrefix, announced, {
          now: parts.now,
          ...(parts.options.staleAfterMs === undefined ? {} : { staleAfterMs: parts.options.staleAfterMs }),
          ...(parts.options.leaseMarginMs === undefined ? {} : { leaseMarginMs: parts.options.leaseMarginMs }),
        });
      } catch (error) {
        await cancel("the fleet could not be read");
        throw error;
      }
      live = view.instances.length;
      waitingFor = view.instances.flatMap((instance) => {
        const who = `${instance.app}@${instance.host} (${instance.instanceId})`;
        if (instance.moveTaken !== announced.version) return [`${who} has not taken the announcement yet`];
        if (instance.inFlight > 0) {
          return [
            `${who} has ${instance.inFlight} ${instance.inFlight === 1 ? "write" : "writes"} in flight under phase ${from}`,
          ];
        }
        return [];
      });
      // Silent processes may still write under the old phase until their write lease runs out (plus the margin).
      for (const instance of view.silent) {
        waitingFor.push(
          `${instance.app}@${instance.host} (${instance.instanceId}) has not been heard from since ${instance.lastSeen} and may write under phase ${from} until ${instance.writesUntil}`,
        );
      }
      report(live, waitingFor);
      if (waitingFor.length === 0) break;
      if (parts.now() >= lastCommitAt) {
        await cancel("the fleet was not ready before the deadline");
        throw new PhaseMoveTimedOut(from, to, waitingFor, deadline);
      }
      await pause();
    }
    // No write under the old phase is left anywhere: what it left in the outbox is there now, and the fleet's drains
    // (still in the old phase, its writes held) replay it. Wait for that: a move that switches the authoritative store
    // does not strand an acknowledged write on the store it leaves. (An outbox that cannot be read stops the move at
    // the preconditions below. A forced move takes its operator's word, as the audit log says; what it strands is
    // counted as such and resolved with `ferry outbox resolve`.)
    const becoming = PHASES[to].authoritative;
    const pendingWrites = parts.options.pendingWrites;
    let outboxWaited = false;
    if (pendingWrites && !move.forced && becoming !== PHASES[from].authoritative) {
      for (;;) {
        const waiting = await pendingWrites(becoming, { inFlight: true }).catch(() => undefined);
        if (waiting === 0 || waiting === undefined) break;
        const what = `${waiting} ${waiting === 1 ? "write" : "writes"} for ${becoming} in the outbox, replayed by the fleet`;
        if (parts.now() >= lastCommitAt) {
          await cancel("the outbox did not drain before the deadline");
          throw new PhaseMoveTimedOut(from, to, [what], deadline);
        }
        report(live, [what]);
        outboxWaited = true;
        await pause();
      }
    }
    if (!outboxWaited) break;
  }
  const guards: TransactWriteItem[] = [];
  if (!move.forced) {
    const checks = await parts.preconditions(to, announced, true);
    const unmet = checks.filter((check) => !check.met).map((check) => check.reason);
    if (unmet.length > 0) {
      await cancel(`a precondition no longer held when the fleet was ready: ${unmet.join("; ")}`);
      throw new PhaseChangeRefused("precondition", from, to, unmet, {
        hint: "the move was announced, then cancelled when the fleet was ready; meet the precondition and try again",
      });
    }
    for (const check of checks) if (check.condition) guards.push(check.condition);
  }
  if (parts.now() >= lastCommitAt) {
    await cancel("the fleet was ready too close to the deadline");
    throw new PhaseMoveTimedOut(from, to, ["the fleet was ready too close to the deadline to commit safely"], deadline);
  }
  try {
    return await parts.write(announced, { ...move, guards });
  } catch (error) {
    if (error instanceof PhaseConflict) {
      // A process found the deadline passed and cancelled the move first.
      throw new PhaseMoveTimedOut(
        from,
        to,
        [`the move was cancelled before it was committed (${error.message})`],
        deadline,
      );
    }
    await cancel("the commit failed");
    throw error;
  }
}
