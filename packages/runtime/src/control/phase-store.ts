/**
 * PhaseStore: the migration phase as the whole fleet shares it (docs/architecture.md, "Phases"). The phase, its
 * settings and its audit log live in the control table, so every instance sees the same phase, it survives restarts,
 * and every change is recorded.
 *
 * - Changes are compare-and-set on a version number: the phase item and its audit entry are written in one
 *   TransactWriteItems, conditional on the version the change was decided on, so the audit cannot miss a change and
 *   a lost race is reported (PhaseConflict), never applied on top of someone else's change.
 * - Guard rails (PhaseChangeRefused, with the reason): one step at a time (1<->2<->3<->4->5), nothing leaves 5, 4->5
 *   only with explicit confirmation, and the preconditions of ./guard-rails.ts (those on records of the control table
 *   are also conditions of the move's transaction). A forced move skips the step rule and the preconditions, needs a reason, and is marked
 *   forced in the audit log.
 * - A move that changes the authoritative store (and 4 -> 5) goes through the barrier (moveThroughBarrier): announced
 *   on the phase item, committed once every live process has taken it with no write in flight under the old phase,
 *   cancelled otherwise. While it is announced no other change is made.
 *
 * Control-table items (pk / sk) of the phase and what its guard rails read:
 *
 * | pk            | sk               | what                                                                    |
 * |---------------|------------------|-------------------------------------------------------------------------|
 * | `PHASE`       | `CURRENT`        | the phase, its settings, `version`, `updatedAt`, `updatedBy`, `dualWriteSince`, `pending` (./phase-item.ts) |
 * | `PHASE#AUDIT` | `V#<12 digits>`  | one audit entry per version (./audit-log.ts)                            |
 * | `INSTANCE`    | instance id      | one heartbeat per running process (./heartbeats.ts)                     |
 * | `BACKFILL`    | `LATEST`         | the last backfill's state (./backfill-status.ts)                        |
 * | `VALIDATION`  | `LATEST`         | the last validation's result (./validation-result.ts)                   |
 * | `SHADOW`      | `COUNTERS`       | shadow comparisons and mismatches since phase 3 was entered (./shadow-counts.ts) |
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { cancellationCodes } from "../dynamodb/cancellation-codes.ts";
import { isPhase, PHASES, type Phase, type StoreName } from "../phases.ts";
import {
  auditEntryFromItem,
  auditEntryToItem,
  PHASE_AUDIT_PARTITION,
  type PhaseAuditEntry,
  type PhaseChangeKind,
  type PhaseHistoryPage,
} from "./audit-log.ts";
import { checkPreconditions, type Precondition } from "./guard-rails.ts";
import { type FleetOptions, type FleetView, readFleet } from "./heartbeats.ts";
import {
  InvalidPhaseSettings,
  PhaseChangeRefused,
  PhaseConflict,
  PhaseControlError,
  PhaseMoveTimedOut,
} from "./phase-errors.ts";
import { PHASE_ITEM_KEY, stateFromItem, stateToItem } from "./phase-item.ts";
import {
  DEFAULT_PHASE_SETTINGS,
  initialState,
  type PendingMove,
  type PhaseSettings,
  type PhaseState,
  sameSettings,
  settingProblem,
  settingsOf,
} from "./phase-state.ts";
import { freshShadowCounts } from "./shadow-counts.ts";
import { CONTROL_KEY, ControlCursorError, controlKey, ensureControlTable, newestFirst } from "./table.ts";

export interface PhaseChangeOptions {
  /** Who asks for the change (a person or a tool), recorded in the audit log. */
  who: string;
  /** Why; required when forcing. */
  reason?: string;
  /** Skip the step rule and the preconditions (never the 4 -> 5 confirmation; nothing ever leaves phase 5). */
  force?: boolean;
  /** Required for 4 -> 5, the point of no return. */
  confirm?: boolean;
  /**
   * A move that changes the authoritative store (and 4 -> 5) is announced first and committed once every live process
   * has taken the announcement with no write in flight under the old phase: how long the fleet may take (default
   * 30 s); after it the move is cancelled (PhaseMoveTimedOut) and writes go on under the old phase.
   */
  waitMs?: number;
  /** Told what an announced move waits for, each time the fleet is read. It must not throw. */
  onProgress?: (progress: MoveProgress) => void;
  /** The version the change was decided on; PhaseConflict when the stored one differs. Default: the one read now. */
  expectedVersion?: number;
}

export interface PhaseSettingsOptions {
  who: string;
  reason?: string;
  expectedVersion?: number;
}

export interface PhaseStoreOptions {
  /** Put in front of the control table's name (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
  /**
   * How many failed writes wait in the outbox for a store (Outbox.metrics), with `inFlight` the intents of writes
   * still being copied too. Given one, a move that makes a store authoritative (3 -> 4, 4 -> 3) is refused while
   * failed writes for it wait (it would serve stale data), and once the fleet has no write in flight the move waits
   * until none is left either way. The CLI and FleetMember give it.
   */
  pendingWrites?: (store: StoreName, options: { inFlight: boolean }) => Promise<number>;
  /** A process not heard from for this long is taken to be gone, by the fleet guard rail and fleet() (default 3 s). */
  staleAfterMs?: number;
  /** How often an announced move reads the fleet's acks (default 50 ms). */
  movePollMs?: number;
  /**
   * An announced move is committed only this long before its deadline, at the latest, by the mover's clock; processes
   * cancel it once the deadline has passed by theirs (default 2 s: keep it above the clock skew and a write's latency).
   * The commit and the cancellation are compare-and-sets of the same version, so only one of them can happen.
   */
  moveMarginMs?: number;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** What an announced move waits for: the live processes that are not ready yet (none: it commits now). */
export interface MoveProgress {
  from: Phase;
  to: Phase;
  /** The version of the announcement. */
  version: number;
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

/**
 * Whether a move goes through the barrier: it changes the authoritative store (3 <-> 4, and forced moves across), or it
 * stops MySQL being written (4 -> 5). Within one authoritative store (1 <-> 2 <-> 3) a move is one compare-and-set.
 */
export function movesAuthority(from: Phase, to: Phase): boolean {
  return PHASES[from].authoritative !== PHASES[to].authoritative || (to === 5 && from !== 5);
}

/** How often a transaction cancelled by a concurrent one (the version unchanged) is tried again. */
const CONFLICT_ATTEMPTS = 5;

const DEFAULT_HISTORY_LIMIT = 20;
const MAX_HISTORY_LIMIT = 1000;

/** A change to write: the phase it goes to (the same one for a settings change) and what the audit entry says. */
interface Change {
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

/** The shared phase in the control table: read it, change it under the guard rails, configure it, list its audit log. */
export class PhaseStore {
  readonly tablePrefix: string;
  private readonly now: () => number;

  constructor(
    readonly client: DynamoDBClient,
    private readonly options: PhaseStoreOptions,
  ) {
    this.tablePrefix = options.tablePrefix;
    this.now = options.now ?? Date.now;
  }

  /** The control table's name, once it exists (created on first use). */
  table(): Promise<string> {
    return ensureControlTable(this.client, this.tablePrefix);
  }

  /** The current phase (a strongly consistent read); phase 1, version 0, default settings when never set. */
  async get(): Promise<PhaseState> {
    const table = await this.table();
    const out = await this.client.send(
      new GetItemCommand({ TableName: table, Key: controlKey(PHASE_ITEM_KEY), ConsistentRead: true }),
    );
    return out.Item === undefined ? initialState() : stateFromItem(out.Item);
  }

  /** The live processes of the fleet (their heartbeats) and whether each runs the current phase version. */
  async fleet(options: FleetOptions = {}): Promise<FleetView> {
    const staleAfterMs = options.staleAfterMs ?? this.options.staleAfterMs;
    return readFleet(this.client, this.tablePrefix, await this.get(), {
      now: this.now,
      ...(staleAfterMs === undefined ? {} : { staleAfterMs }),
    });
  }

  /**
   * The preconditions of an unforced move from the current phase to `to`, each checked now (met or not, and why):
   * what set() checks. The step rule, the confirmation of 4 -> 5 and the rest of set()'s rules are not among them.
   */
  async preconditions(to: Phase, current?: PhaseState, atCommit = false): Promise<Precondition[]> {
    const state = current ?? (await this.get());
    return checkPreconditions({
      atCommit,
      client: this.client,
      tablePrefix: this.tablePrefix,
      table: await this.table(),
      from: state.phase,
      to,
      current: state,
      ...(this.options.pendingWrites ? { pendingWrites: this.options.pendingWrites } : {}),
      ...(this.options.staleAfterMs === undefined ? {} : { staleAfterMs: this.options.staleAfterMs }),
    });
  }

  /**
   * Moves to phase `to` under the guard rails (PhaseChangeRefused), as a compare-and-set on the version
   * (PhaseConflict), writing the audit entry in the same transaction. Returns the new state.
   */
  async set(to: number, options: PhaseChangeOptions): Promise<PhaseState> {
    const current = await this.settled(await this.get(), to, options.who);
    const from = current.phase;
    checkExpected(current, options.expectedVersion);
    const who = options.who?.trim() ?? "";
    const reason = options.reason?.trim() || undefined;
    const force = options.force ?? false;
    if (!isPhase(to)) {
      throw new PhaseChangeRefused("not-a-phase", from, to, [`${String(to)} is not a phase (1 to 5)`]);
    }
    if (who === "") throw new PhaseChangeRefused("who", from, to, ["a change must say who makes it"]);
    if (from === 5) {
      throw new PhaseChangeRefused("final", from, to, [
        "nothing leaves phase 5 (DynamoDB only): MySQL is no longer written, so it is out of date",
      ]);
    }
    if (to === from) throw new PhaseChangeRefused("no-op", from, to, [`the phase is already ${from}`]);
    if (force && reason === undefined) {
      throw new PhaseChangeRefused("reason", from, to, ["a forced move needs a reason"], {
        hint: "add --reason TEXT (it goes into the audit log)",
      });
    }
    if (!force && Math.abs(to - from) !== 1) {
      throw new PhaseChangeRefused(
        "step",
        from,
        to,
        [`moves go one step at a time (${from} -> ${stepFrom(from, to)})`],
        {
          hint: "move one phase at a time, or force it with --force --reason TEXT",
        },
      );
    }
    if (to === 5 && options.confirm !== true) {
      throw new PhaseChangeRefused(
        "confirm",
        from,
        to,
        ["phase 5 is the point of no return (MySQL stops being written) and needs explicit confirmation"],
        { hint: "add --confirm (confirm: true) once you are sure" },
      );
    }
    const guards: TransactWriteItem[] = [];
    if (!force) {
      const checks = await this.preconditions(to, current);
      const unmet = checks.filter((check) => !check.met).map((check) => check.reason);
      if (unmet.length > 0) {
        throw new PhaseChangeRefused("precondition", from, to, unmet, {
          hint: "meet the precondition, or force the move with --force --reason TEXT",
        });
      }
      for (const check of checks) if (check.condition) guards.push(check.condition);
    }
    const move: Change = { who, change: "phase", to, forced: force, reason, settings: settingsOf(current), guards };
    if (!movesAuthority(from, to)) return this.write(current, move);
    return this.moveThroughBarrier(current, move, options);
  }

  /**
   * The barrier of a move that changes the authoritative store (docs/architecture.md, "Phases"):
   * 1. announce it: the phase item records the move, its target and a deadline (compare-and-set, audited, with the
   *    preconditions' conditions);
   * 2. wait until every live process has taken the announcement (it holds new writes) and has no write in flight under
   *    the old phase, as their heartbeats say;
   * 3. check the preconditions again (the outbox may have received a write that failed while the fleet drained) and
   *    commit the new phase (compare-and-set on the announcement's version), before the deadline minus the margin.
   * Otherwise the move is cancelled (compare-and-set, audited) and PhaseMoveTimedOut or PhaseChangeRefused thrown;
   * processes that find the deadline passed cancel it themselves, so a commit after they resumed cannot happen.
   */
  private async moveThroughBarrier(
    current: PhaseState,
    move: Change,
    options: PhaseChangeOptions,
  ): Promise<PhaseState> {
    const waitMs = options.waitMs ?? DEFAULT_MOVE_WAIT_MS;
    if (!Number.isFinite(waitMs) || waitMs <= 0) {
      throw new PhaseControlError(`the wait for the fleet must be a positive number of milliseconds, got ${waitMs}`);
    }
    const margin = this.options.moveMarginMs ?? DEFAULT_MOVE_MARGIN_MS;
    if (waitMs <= margin) {
      throw new PhaseControlError(
        `the wait for the fleet (${waitMs} ms) must be longer than the margin kept before its deadline (${margin} ms)`,
      );
    }
    const deadlineMs = this.now() + waitMs;
    const deadline = new Date(deadlineMs).toISOString();
    const from = current.phase;
    const to = move.to;
    const pending: PendingMove = { to, deadline, by: move.who, forced: move.forced };
    if (move.reason !== undefined) pending.reason = move.reason;
    const announced = await this.write(current, {
      ...move,
      change: "announce",
      to: from,
      auditTo: to,
      pending,
    });
    const cancel = async (why: string): Promise<void> => {
      await this.cancelMove(announced, move.who, why).catch(() => undefined);
    };
    const lastCommitAt = deadlineMs - margin;
    let waitingFor: string[] = [];
    let live = 0;
    // The fleet's replays of the outbox are writes in flight too (beginReplay): once the outbox had to be waited for,
    // the fleet is looked at again, until both are found settled one after the other.
    for (;;) {
      for (;;) {
        let view: FleetView;
        try {
          view = await readFleet(this.client, this.tablePrefix, announced, {
            now: this.now,
            ...(this.options.staleAfterMs === undefined ? {} : { staleAfterMs: this.options.staleAfterMs }),
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
        try {
          options.onProgress?.({
            from,
            to,
            version: announced.version,
            deadline,
            live: view.instances.length,
            waitingFor: [...waitingFor],
          });
        } catch {
          // A failing progress report must not leave the move announced.
        }
        if (waitingFor.length === 0) break;
        if (this.now() >= lastCommitAt) {
          await cancel("the fleet was not ready before the deadline");
          throw new PhaseMoveTimedOut(from, to, waitingFor, deadline);
        }
        await new Promise((resolve) => setTimeout(resolve, this.options.movePollMs ?? DEFAULT_MOVE_POLL_MS));
      }
      // No write under the old phase is left anywhere: what it left in the outbox is there now, and the fleet's drains
      // (still in the old phase, its writes held) replay it. Wait for that: a move that switches the authoritative store
      // does not strand an acknowledged write on the store it leaves. (An outbox that cannot be read stops the move at
      // the preconditions below. A forced move takes its operator's word, as the audit log says; what it strands is
      // counted as such and resolved with `ferry outbox resolve`.)
      const becoming = PHASES[to].authoritative;
      const pendingWrites = this.options.pendingWrites;
      let outboxWaited = false;
      if (pendingWrites && !move.forced && becoming !== PHASES[from].authoritative) {
        for (;;) {
          const waiting = await pendingWrites(becoming, { inFlight: true }).catch(() => undefined);
          if (waiting === 0 || waiting === undefined) break;
          const what = `${waiting} ${waiting === 1 ? "write" : "writes"} for ${becoming} in the outbox, replayed by the fleet`;
          if (this.now() >= lastCommitAt) {
            await cancel("the outbox did not drain before the deadline");
            throw new PhaseMoveTimedOut(from, to, [what], deadline);
          }
          try {
            options.onProgress?.({
              from,
              to,
              version: announced.version,
              deadline,
              live,
              waitingFor: [what],
            });
          } catch {
            // A failing progress report must not leave the move announced.
          }
          outboxWaited = true;
          await new Promise((resolve) => setTimeout(resolve, this.options.movePollMs ?? DEFAULT_MOVE_POLL_MS));
        }
      }
      if (!outboxWaited) break;
    }
    const guards: TransactWriteItem[] = [];
    if (!move.forced) {
      const checks = await this.preconditions(to, announced, true);
      const unmet = checks.filter((check) => !check.met).map((check) => check.reason);
      if (unmet.length > 0) {
        await cancel(`a precondition no longer held when the fleet was ready: ${unmet.join("; ")}`);
        throw new PhaseChangeRefused("precondition", from, to, unmet, {
          hint: "the move was announced, then cancelled when the fleet was ready; meet the precondition and try again",
        });
      }
      for (const check of checks) if (check.condition) guards.push(check.condition);
    }
    if (this.now() >= lastCommitAt) {
      await cancel("the fleet was ready too close to the deadline");
      throw new PhaseMoveTimedOut(
        from,
        to,
        ["the fleet was ready too close to the deadline to commit safely"],
        deadline,
      );
    }
    try {
      return await this.write(announced, { ...move, guards });
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

  /**
   * Cancels the move announced at `announced.version` (compare-and-set on it, audited): writes resume under the phase
   * it is in. PhaseConflict when the phase item has changed since (the move was committed or cancelled already).
   */
  async cancelMove(announced: PhaseState, who: string, reason: string): Promise<PhaseState> {
    const pending = announced.pending;
    if (pending === undefined) throw new PhaseControlError(`version ${announced.version} announces no move`);
    return this.write(announced, {
      who,
      change: "cancel",
      to: announced.phase,
      auditTo: pending.to,
      forced: false,
      reason,
      settings: settingsOf(announced),
      guards: [],
    });
  }

  /**
   * `current`, once no announced move is open: a move still before its deadline refuses any other change
   * (PhaseChangeRefused "in-progress"); one past its deadline is cancelled first.
   */
  private async settled(current: PhaseState, to: number | undefined, who: string | undefined): Promise<PhaseState> {
    const pending = current.pending;
    if (pending === undefined) return current;
    if (this.now() <= Date.parse(pending.deadline)) {
      throw new PhaseChangeRefused(
        "in-progress",
        current.phase,
        to ?? current.phase,
        [`a move to phase ${pending.to} by ${pending.by} is in progress until ${pending.deadline}`],
        { hint: "wait until it is committed or cancelled (ferry phase get)" },
      );
    }
    try {
      await this.cancelMove(current, who?.trim() || "ferry", "its deadline passed before it was committed");
    } catch (error) {
      if (!(error instanceof PhaseConflict)) throw error;
    }
    return this.get();
  }

  /** Changes the phase's settings, as a compare-and-set on the version, audited like a phase change. */
  async configure(changes: Partial<PhaseSettings>, options: PhaseSettingsOptions): Promise<PhaseState> {
    const current = await this.settled(await this.get(), undefined, options.who);
    checkExpected(current, options.expectedVersion);
    const who = options.who?.trim() ?? "";
    if (who === "") throw new InvalidPhaseSettings("a change must say who makes it");
    const next = settingsOf(current);
    const given = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (given.length === 0) throw new InvalidPhaseSettings("no setting to change was given");
    for (const [name, value] of given) {
      if (!(name in DEFAULT_PHASE_SETTINGS)) throw new InvalidPhaseSettings(`there is no phase setting '${name}'`);
      const problem = settingProblem(name as keyof PhaseSettings, value);
      if (problem) throw new InvalidPhaseSettings(problem);
      next[name as keyof PhaseSettings] = value as number;
    }
    if (sameSettings(next, settingsOf(current))) {
      throw new InvalidPhaseSettings("the settings already have these values; nothing to change");
    }
    return this.write(current, {
      who,
      change: "settings",
      to: current.phase,
      forced: false,
      reason: options.reason?.trim() || undefined,
      settings: next,
      guards: [],
    });
  }

  /** The audit log, newest first, a page at a time (`limit` entries, default 20). */
  async history(options: { limit?: number; cursor?: string } = {}): Promise<PhaseHistoryPage> {
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw new PhaseControlError(
        `a history limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}, got ${limit}`,
      );
    }
    try {
      const page = await newestFirst(this.client, {
        table: await this.table(),
        partition: PHASE_AUDIT_PARTITION,
        limit,
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      });
      const entries = page.items.map(auditEntryFromItem);
      return page.cursor === undefined ? { entries } : { entries, cursor: page.cursor };
    } catch (error) {
      if (error instanceof ControlCursorError) {
        throw new PhaseControlError(
          `the history cursor is malformed or belongs to another listing; restart the listing`,
        );
      }
      throw error;
    }
  }

  /**
   * The compare-and-set: the phase item, its audit entry, the guards (and, entering phase 3, a fresh set of shadow
   * counters) in one transaction.
   */
  private async write(current: PhaseState, change: Change): Promise<PhaseState> {
    const table = await this.table();
    for (let attempt = 1; ; attempt++) {
      const at = new Date(this.now()).toISOString();
      const version = current.version + 1;
      const next: PhaseState = {
        phase: change.to,
        flags: { ...PHASES[change.to].flags },
        ...change.settings,
        version,
        updatedAt: at,
        updatedBy: change.who,
      };
      // A run of dual writes begins with the move out of phase 1 and ends with the move back to it.
      const dualWriteSince = change.to === 1 ? undefined : current.phase === 1 ? version : current.dualWriteSince;
      if (dualWriteSince !== undefined) next.dualWriteSince = dualWriteSince;
      if (change.pending !== undefined) next.pending = change.pending;
      const entry: PhaseAuditEntry = {
        version,
        at,
        who: change.who,
        change: change.change,
        from: current.phase,
        to: change.auditTo ?? change.to,
        forced: change.forced,
        flags: next.flags,
        settings: change.settings,
        ...(change.reason === undefined ? {} : { reason: change.reason }),
      };
      const writes: TransactWriteItem[] = [
        {
          Put: {
            TableName: table,
            Item: stateToItem(next),
            ...(current.version === 0
              ? {
                  ConditionExpression: "attribute_not_exists(#pk)",
                  ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
                }
              : {
                  ConditionExpression: "#version = :version",
                  ExpressionAttributeNames: { "#version": "version" },
                  ExpressionAttributeValues: { ":version": { N: String(current.version) } },
                }),
          },
        },
        {
          Put: {
            TableName: table,
            Item: auditEntryToItem(entry),
            ConditionExpression: "attribute_not_exists(#pk)",
            ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
          },
        },
      ];
      const firstGuard = writes.length;
      writes.push(...change.guards);
      // Entering phase 3 starts the shadow counters afresh.
      if (change.change === "phase" && change.to === 3 && current.phase !== 3) {
        writes.push({ Put: { TableName: table, Item: freshShadowCounts(at) } });
      }
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: writes }));
        return next;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes === undefined) throw error;
        const now = await this.get();
        if (now.version !== current.version) throw new PhaseConflict(current.version, now, { cause: error });
        // Cancelled by a concurrent transaction that did not change the version: try again.
        if (codes.includes("TransactionConflict") && attempt < CONFLICT_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
          continue;
        }
        const guard = codes.findIndex(
          (code, index) =>
            code === "ConditionalCheckFailed" && index >= firstGuard && index < firstGuard + change.guards.length,
        );
        if (guard >= 0) {
          throw new PhaseChangeRefused(
            "precondition",
            current.phase,
            change.to,
            [
              "a precondition stopped holding while the move was being made (a new backfill, validation or shadow mismatch); check again",
            ],
            { hint: "run the command again to see what is unmet now" },
          );
        }
        if (codes[1] === "ConditionalCheckFailed") {
          throw new PhaseControlError(
            `the audit log already has an entry for version ${version}, but the phase item is at version ${current.version}; the control table ${table} was changed by hand`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }
}

function checkExpected(current: PhaseState, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && expectedVersion !== current.version) {
    throw new PhaseConflict(expectedVersion, current);
  }
}

/** The phase one step from `from` towards `to`. */
function stepFrom(from: Phase, to: Phase): Phase {
  return (to > from ? from + 1 : from - 1) as Phase;
}
