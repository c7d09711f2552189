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
 * - A move that changes the authoritative store (and 4 -> 5) goes through the barrier (./phase-move.ts): announced
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
import { isPhase, PHASES, type Phase } from "../phases.ts";
import {
  auditEntryFromItem,
  auditEntryToItem,
  PHASE_AUDIT_PARTITION,
  type PhaseAuditEntry,
  type PhaseHistoryPage,
} from "./audit-log.ts";
import { type AuditTrailEntry, auditTrailItem } from "./audit-trail.ts";
import { checkPreconditions, type Precondition } from "./guard-rails.ts";
import { type FleetOptions, type FleetView, readFleet } from "./heartbeats.ts";
import { InvalidPhaseSettings, PhaseChangeRefused, PhaseConflict, PhaseControlError } from "./phase-errors.ts";
import { PHASE_ITEM_KEY, stateFromItem, stateToItem } from "./phase-item.ts";
import {
  type BarrierOptions,
  type Change,
  type MoveProgress,
  movesAuthority,
  moveThroughBarrier,
} from "./phase-move.ts";
import {
  DEFAULT_PHASE_SETTINGS,
  initialState,
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

export interface PhaseStoreOptions extends BarrierOptions {
  /** Put in front of the control table's name (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** How often a transaction cancelled by a concurrent one (the version unchanged) is tried again. */
const CONFLICT_ATTEMPTS = 5;

const DEFAULT_HISTORY_LIMIT = 20;
const MAX_HISTORY_LIMIT = 1000;

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
    const leaseMarginMs = options.leaseMarginMs ?? this.options.leaseMarginMs;
    return readFleet(this.client, this.tablePrefix, await this.get(), {
      now: this.now,
      ...(staleAfterMs === undefined ? {} : { staleAfterMs }),
      ...(leaseMarginMs === undefined ? {} : { leaseMarginMs }),
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
      ...(this.options.leaseMarginMs === undefined ? {} : { leaseMarginMs: this.options.leaseMarginMs }),
      now: this.now,
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
    return moveThroughBarrier(
      {
        client: this.client,
        tablePrefix: this.tablePrefix,
        options: this.options,
        now: this.now,
        write: (state, change) => this.write(state, change),
        cancelMove: (announced, who, why) => this.cancelMove(announced, who, why),
        preconditions: (target, state, atCommit) => this.preconditions(target, state, atCommit),
      },
      current,
      move,
      options,
    );
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
      // The same change in the operators' audit trail (one log of phase changes and actions), in this transaction.
      writes.push({ Put: { TableName: table, Item: auditTrailItem(trailEntry(entry, current)) } });
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

/** A phase audit entry as the audit trail tells it: what changed, and the phase and flags before and after. */
function trailEntry(entry: PhaseAuditEntry, before: PhaseState): AuditTrailEntry {
  const flags = (state: { phase: Phase; flags: PhaseAuditEntry["flags"] }) =>
    `phase ${state.phase} (${Object.entries(state.flags)
      .map(([flag, on]) => `${flag} ${on ? "on" : "off"}`)
      .join(", ")})`;
  const what: Record<PhaseAuditEntry["change"], string> = {
    phase: `phase ${entry.from} -> ${entry.to}${entry.forced ? ", forced" : ""}`,
    settings: "phase settings changed",
    announce: `move ${entry.from} -> ${entry.to} announced`,
    cancel: `move ${entry.from} -> ${entry.to} cancelled`,
  };
  const settings = (value: object) => JSON.stringify(value);
  return {
    at: entry.at,
    id: `V${entry.version}`,
    who: entry.who,
    kind: entry.change,
    what: what[entry.change],
    before: entry.change === "settings" ? settings(settingsOf(before)) : flags(before),
    after:
      entry.change === "settings"
        ? settings(entry.settings)
        : entry.change === "phase"
          ? flags({ phase: entry.to, flags: entry.flags })
          : flags(before),
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
    forced: entry.forced,
  };
}
