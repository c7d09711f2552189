/**
 * PhaseStore: the migration phase as the whole fleet shares it (DESIGN.md, "The five phases"; REFERENCE items 1 and 7).
 * The phase, its settings and its audit log live in the control table, so every instance sees the same phase, it
 * survives restarts, and every change is recorded.
 *
 * - Changes are compare-and-set on a version number: the phase item and its audit entry are written in one
 *   TransactWriteItems, conditional on the version the change was decided on, so the audit cannot miss a change and
 *   a lost race is reported (PhaseConflict), never applied on top of someone else's change.
 * - Guard rails (PhaseChangeRefused, with the reason): one step at a time (1<->2<->3<->4->5), nothing leaves 5, the
 *   forward preconditions (2->3 a finished backfill; 3->4 a clean last validation and a shadow mismatch rate below
 *   the threshold over at least `minComparisons` comparisons), and 4->5 only with explicit confirmation. A forced
 *   move skips the step rule and the preconditions, needs a reason, and is marked forced in the audit log.
 * - The preconditions read records that other components write into the control table (the backfill, the validator,
 *   the shadow readers); their keys and shapes are defined here, with the helpers that write them.
 *
 * Control-table items (pk / sk):
 *
 * | pk            | sk               | what                                                                    |
 * |---------------|------------------|-------------------------------------------------------------------------|
 * | `PHASE`       | `CURRENT`        | the phase, its settings, `version`, `updatedAt`, `updatedBy`             |
 * | `PHASE#AUDIT` | `V#<12 digits>`  | one audit entry per version (zero-padded, so newest first is one Query) |
 * | `BACKFILL`    | `LATEST`         | the last backfill's state (recordBackfillStatus)                        |
 * | `VALIDATION`  | `LATEST`         | the last validation's result (recordValidation)                         |
 * | `SHADOW`      | `COUNTERS`       | shadow comparisons and mismatches since phase 3 was entered (addShadowCounts) |
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { isPhase, PHASES, type Phase, type PhaseFlags, type Store } from "../phases.ts";
import { fleet } from "./fleet.ts";
import { CONTROL_KEY, ensureControlTable, newestFirst } from "./table.ts";

type Item = Record<string, AttributeValue>;

/** A control-table key. */
export interface ControlKey {
  readonly pk: string;
  readonly sk: string;
}

/** The item holding the current phase, its settings and its version. */
export const PHASE_ITEM_KEY: ControlKey = { pk: "PHASE", sk: "CURRENT" };

/** The partition of the audit log: one item per version, sort key `V#` + the version zero-padded to 12 digits. */
export const PHASE_AUDIT_PARTITION = "PHASE#AUDIT";

/**
 * The last backfill's state, written by the backfill (recordBackfillStatus): `state` (S: "running" | "finished" |
 * "failed"), `finishedAt` (S, ISO-8601; once it has finished or failed), `at` (S, ISO-8601: when it was recorded).
 * 2 -> 3 needs `state = "finished"`.
 */
export const BACKFILL_STATUS_KEY: ControlKey = { pk: "BACKFILL", sk: "LATEST" };

/**
 * The last validation's result, written by the validator (recordValidation): `clean` (BOOL), `at` (S, ISO-8601),
 * `mismatches` (N). 3 -> 4 needs `clean = true`.
 */
export const VALIDATION_KEY: ControlKey = { pk: "VALIDATION", sk: "LATEST" };

/**
 * The shadow readers' counters (addShadowCounts): `comparisons` (N) and `mismatches` (N), incremented atomically
 * with ADD, and `since` (S, ISO-8601). Entering phase 3 starts them afresh (in the same transaction as the change),
 * so 3 -> 4 judges the comparisons of the current phase-3 period only.
 */
export const SHADOW_COUNTERS_KEY: ControlKey = { pk: "SHADOW", sk: "COUNTERS" };

/** The settings that come with the phase. */
export interface PhaseSettings {
  /** The share of phase-3 reads that are also read from the other store and compared, 0..1. */
  shadowSampleRate: number;
  /** 3 -> 4 needs the shadow mismatch rate (mismatches / comparisons) below this, 0..1. */
  mismatchThreshold: number;
  /** 3 -> 4 needs at least this many shadow comparisons. */
  minComparisons: number;
}

export const DEFAULT_PHASE_SETTINGS: Readonly<PhaseSettings> = Object.freeze({
  shadowSampleRate: 1,
  mismatchThreshold: 0.001,
  minComparisons: 1000,
});

/** The shared phase as stored: phase 1, version 0 and the default settings when nothing was ever stored. */
export interface PhaseState extends PhaseSettings {
  phase: Phase;
  flags: PhaseFlags;
  /** Grows by one with every change (phase or settings); 0 when nothing was ever stored. */
  version: number;
  /** ISO-8601, of the last change. */
  updatedAt?: string;
  /** Who made the last change. */
  updatedBy?: string;
}

export interface PhaseChangeOptions {
  /** Who asks for the change (a person or a tool), recorded in the audit log. */
  who: string;
  /** Why; required when forcing. */
  reason?: string;
  /** Skip the step rule and the preconditions (never the 4 -> 5 confirmation; nothing ever leaves phase 5). */
  force?: boolean;
  /** Required for 4 -> 5, the point of no return. */
  confirm?: boolean;
  /** The version the change was decided on; PhaseConflict when the stored one differs. Default: the one read now. */
  expectedVersion?: number;
}

export interface PhaseSettingsOptions {
  who: string;
  reason?: string;
  expectedVersion?: number;
}

/** One entry of the audit log: a change and the state it resulted in. */
export interface PhaseAuditEntry {
  /** The version the change produced. */
  version: number;
  /** ISO-8601. */
  at: string;
  who: string;
  /** A phase move, or a change of the settings only (then `from` = `to`). */
  change: "phase" | "settings";
  from: Phase;
  to: Phase;
  reason?: string;
  forced: boolean;
  /** The resulting flags. */
  flags: PhaseFlags;
  /** The resulting settings. */
  settings: PhaseSettings;
}

export interface PhaseHistoryPage {
  /** Newest first. */
  entries: PhaseAuditEntry[];
  /** Present when there are older entries: pass it to the next history() call. */
  cursor?: string;
}

export interface PhaseStoreOptions {
  /** Put in front of the control table's name (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
  /**
   * How many failed writes wait in the outbox for a store (Outbox.metrics). Given one, a move that makes a store
   * authoritative (3 -> 4, 4 -> 3) is refused while writes for it still wait: it would serve stale data. The CLI and
   * FleetMember give it.
   */
  pendingWrites?: (store: Store) => Promise<number>;
}

/** The last backfill's state, as recorded under BACKFILL_STATUS_KEY. */
export interface BackfillStatus {
  state: "running" | "finished" | "failed";
  /** ISO-8601, once it has finished or failed. */
  finishedAt?: string;
  /** ISO-8601: when this status was recorded. */
  at: string;
}

/** The last validation's result, as recorded under VALIDATION_KEY. */
export interface ValidationResult {
  clean: boolean;
  /** ISO-8601: when the validation ran. */
  at: string;
  mismatches: number;
}

/** The shadow readers' counters, as recorded under SHADOW_COUNTERS_KEY. */
export interface ShadowCounts {
  comparisons: number;
  mismatches: number;
  /** ISO-8601: when the counters were last started afresh (absent when they never were). */
  since?: string;
}

/** The base of the phase store's errors. */
export class PhaseControlError extends Error {
  override readonly name: string = "PhaseControlError";
  /** What to do about it, for the CLI to show under the message. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** Why a phase change was refused. */
export type RefusalRule =
  | "not-a-phase"
  | "final"
  | "no-op"
  | "step"
  | "precondition"
  | "confirm"
  | "reason"
  | "who"
  | "settings";

/** A change the guard rails refuse; the message says why, and nothing was written. */
export class PhaseChangeRefused extends PhaseControlError {
  override readonly name = "PhaseChangeRefused";
  constructor(
    readonly rule: RefusalRule,
    readonly from: Phase,
    readonly to: number,
    /** Each reason, one sentence (a move can fail several preconditions at once). */
    readonly reasons: readonly string[],
    options: { hint?: string } = {},
  ) {
    super(`phase ${from} -> ${to} refused: ${reasons.join("; ")}`, options);
  }
}

/** A settings change that is out of range or changes nothing; nothing was written. */
export class InvalidPhaseSettings extends PhaseControlError {
  override readonly name = "InvalidPhaseSettings";
}

/** A compare-and-set that lost: someone else changed the phase (or its settings) first; nothing was written. */
export class PhaseConflict extends PhaseControlError {
  override readonly name = "PhaseConflict";
  constructor(
    /** The version the change was decided on. */
    readonly expectedVersion: number,
    /** The state as it is now. */
    readonly current: PhaseState,
    options: { cause?: unknown } = {},
  ) {
    const by = current.updatedBy === undefined ? "" : ` by ${current.updatedBy} at ${current.updatedAt ?? "?"}`;
    super(
      `someone else changed the phase first: expected version ${expectedVersion}, but it is now version ${current.version} (phase ${current.phase}, set${by}); nothing was written`,
      { hint: "read the phase again and decide on the current state", ...options },
    );
  }
}

/** How often a transaction cancelled by a concurrent one (the version unchanged) is tried again. */
const CONFLICT_ATTEMPTS = 5;

const DEFAULT_HISTORY_LIMIT = 20;
const MAX_HISTORY_LIMIT = 1000;
const VERSION_DIGITS = 12;

/** The shared phase in the control table: read it, change it under the guard rails, configure it, list its audit log. */
export class PhaseStore {
  readonly tablePrefix: string;

  constructor(
    readonly client: DynamoDBClient,
    private readonly options: PhaseStoreOptions,
  ) {
    this.tablePrefix = options.tablePrefix;
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

  /**
   * Moves to phase `to` under the guard rails (PhaseChangeRefused), as a compare-and-set on the version
   * (PhaseConflict), writing the audit entry in the same transaction. Returns the new state.
   */
  async set(to: number, options: PhaseChangeOptions): Promise<PhaseState> {
    const current = await this.get();
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
      // The shadow counts the 3 -> 4 check judges by are the ones its transaction requires to be unchanged.
      const shadow = from === 3 && to === 4 ? await readShadowCounts(this.client, this.tablePrefix) : undefined;
      if (to > from) guards.push(...(await this.preconditionChecks(from, to, shadow)));
      const unmet = [
        ...(await this.unmetEverywhere(from, to, current)),
        ...(to > from ? await this.unmetPreconditions(from, to, current, shadow) : []),
      ];
      if (unmet.length > 0) {
        throw new PhaseChangeRefused("precondition", from, to, unmet, {
          hint: "meet the precondition, or force the move with --force --reason TEXT",
        });
      }
    }
    return this.write(current, {
      who,
      change: "phase",
      to,
      forced: force,
      reason,
      settings: settingsOf(current),
      // Entering phase 3 starts the shadow counters afresh.
      resetShadowCounts: to === 3,
      guards,
    });
  }

  /** Changes the phase's settings, as a compare-and-set on the version, audited like a phase change. */
  async configure(changes: Partial<PhaseSettings>, options: PhaseSettingsOptions): Promise<PhaseState> {
    const current = await this.get();
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
      resetShadowCounts: false,
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
    const table = await this.table();
    const start = options.cursor === undefined ? undefined : decodeHistoryCursor(options.cursor);
    const page = await newestFirst(this.client, {
      table,
      partition: PHASE_AUDIT_PARTITION,
      limit,
      ...(start === undefined ? {} : { start }),
    });
    const entries = page.items.map(auditEntryFromItem);
    const more = page.more;
    const last = entries.at(-1);
    return more && last !== undefined ? { entries, cursor: encodeHistoryCursor(last.version) } : { entries };
  }

  /**
   * The preconditions of a forward move as conditions of its transaction, so that what was checked still holds when
   * the move is written: the backfill still finished (2 -> 3); the last validation still clean and no shadow mismatch
   * counted since the rate was read (3 -> 4; comparisons only grow, so the rate can only have dropped).
   */
  private async preconditionChecks(from: Phase, to: Phase, shadow?: ShadowCounts): Promise<TransactWriteItem[]> {
    const table = await this.table();
    if (from === 2 && to === 3) {
      return [
        {
          ConditionCheck: {
            TableName: table,
            Key: controlKey(BACKFILL_STATUS_KEY),
            ConditionExpression: "#state = :finished",
            ExpressionAttributeNames: { "#state": "state" },
            ExpressionAttributeValues: { ":finished": { S: "finished" } },
          },
        },
      ];
    }
    if (from === 3 && to === 4 && shadow) {
      return [
        {
          ConditionCheck: {
            TableName: table,
            Key: controlKey(VALIDATION_KEY),
            ConditionExpression: "#clean = :clean",
            ExpressionAttributeNames: { "#clean": "clean" },
            ExpressionAttributeValues: { ":clean": { BOOL: true } },
          },
        },
        {
          ConditionCheck: {
            TableName: table,
            Key: controlKey(SHADOW_COUNTERS_KEY),
            ConditionExpression: "attribute_not_exists(#mismatches) OR #mismatches <= :seen",
            ExpressionAttributeNames: { "#mismatches": "mismatches" },
            ExpressionAttributeValues: { ":seen": { N: String(shadow.mismatches) } },
          },
        },
      ];
    }
    return [];
  }

  /**
   * What every unforced move needs, either way: the fleet on the current version (a process still routing by an older
   * phase would, e.g., write one store only while the others read the other), and no failed writes waiting for a store
   * that is about to become authoritative.
   */
  private async unmetEverywhere(from: Phase, to: Phase, current: PhaseState): Promise<string[]> {
    const unmet: string[] = [];
    const view = await fleet(this);
    const behind = view.instances.filter((instance) => !instance.current);
    if (behind.length > 0) {
      const names = behind.map((instance) => `${instance.app}@${instance.host} (v${instance.versionSeen})`).join(", ");
      unmet.push(
        `${behind.length} of ${view.instances.length} running ${plural(view.instances.length, "process has", "processes have")} not picked up version ${current.version} yet: ${names}`,
      );
    }
    const becoming = PHASES[to].authoritative;
    if (becoming !== PHASES[from].authoritative && this.options.pendingWrites) {
      try {
        const waiting = await this.options.pendingWrites(becoming);
        if (waiting > 0) {
          unmet.push(
            `${waiting} failed ${plural(waiting, "write", "writes")} for ${becoming} still ${waiting === 1 ? "waits" : "wait"} in the outbox, and ${becoming} is about to become authoritative: let the outbox drain first`,
          );
        }
      } catch (error) {
        unmet.push(
          `the outbox for ${becoming} cannot be read (${error instanceof Error ? error.message : String(error)}), so it is unknown whether writes for it still wait`,
        );
      }
    }
    return unmet;
  }

  private async unmetPreconditions(
    from: Phase,
    to: Phase,
    current: PhaseState,
    counted?: ShadowCounts,
  ): Promise<string[]> {
    if (from === 2 && to === 3) {
      const backfill = await readBackfillStatus(this.client, this.tablePrefix);
      if (backfill === undefined) return ["it needs a finished backfill, and none has been recorded"];
      if (backfill.state === "running") return [`it needs a finished backfill; the last one is still running`];
      if (backfill.state === "failed") {
        return [`it needs a finished backfill; the last one failed (at ${backfill.finishedAt ?? backfill.at})`];
      }
      return [];
    }
    if (from === 3 && to === 4) {
      const unmet: string[] = [];
      const validation = await readValidation(this.client, this.tablePrefix);
      if (validation === undefined) {
        unmet.push("it needs a clean validation, and none has been recorded");
      } else if (!validation.clean) {
        unmet.push(
          `it needs a clean validation; the last one (at ${validation.at}) found ${validation.mismatches} ${plural(validation.mismatches, "mismatch", "mismatches")}`,
        );
      }
      const shadow = counted ?? (await readShadowCounts(this.client, this.tablePrefix));
      if (shadow.comparisons < current.minComparisons) {
        unmet.push(
          `it needs at least ${current.minComparisons} shadow ${plural(current.minComparisons, "comparison", "comparisons")}, and there ${shadow.comparisons === 1 ? "has" : "have"} been ${shadow.comparisons}`,
        );
      } else {
        const rate = shadow.mismatches / shadow.comparisons;
        if (!(rate < current.mismatchThreshold)) {
          unmet.push(
            `the shadow mismatch rate is ${percent(rate)} (${shadow.mismatches} of ${shadow.comparisons} comparisons), not below the threshold of ${percent(current.mismatchThreshold)}`,
          );
        }
      }
      return unmet;
    }
    return [];
  }

  /** The compare-and-set: the phase item, its audit entry (and a fresh set of shadow counters) in one transaction. */
  private async write(
    current: PhaseState,
    change: {
      who: string;
      change: "phase" | "settings";
      to: Phase;
      forced: boolean;
      reason: string | undefined;
      settings: PhaseSettings;
      resetShadowCounts: boolean;
      /** Conditions the move was decided on (its preconditions): they must still hold when it is written. */
      guards?: TransactWriteItem[];
    },
  ): Promise<PhaseState> {
    const table = await this.table();
    for (let attempt = 1; ; attempt++) {
      const at = new Date().toISOString();
      const version = current.version + 1;
      const next: PhaseState = {
        phase: change.to,
        flags: { ...PHASES[change.to].flags },
        ...change.settings,
        version,
        updatedAt: at,
        updatedBy: change.who,
      };
      const entry: PhaseAuditEntry = {
        version,
        at,
        who: change.who,
        change: change.change,
        from: current.phase,
        to: change.to,
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
      writes.push(...(change.guards ?? []));
      if (change.resetShadowCounts) {
        writes.push({
          Put: {
            TableName: table,
            Item: {
              ...controlKey(SHADOW_COUNTERS_KEY),
              comparisons: { N: "0" },
              mismatches: { N: "0" },
              since: { S: at },
            },
          },
        });
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
            code === "ConditionalCheckFailed" &&
            index >= firstGuard &&
            index < firstGuard + (change.guards?.length ?? 0),
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

/** Records the backfill's state (the backfill calls this when it starts, finishes or fails). */
export async function recordBackfillStatus(
  client: DynamoDBClient,
  tablePrefix: string,
  status: { state: BackfillStatus["state"]; finishedAt?: string },
): Promise<BackfillStatus> {
  if (!["running", "finished", "failed"].includes(status.state)) {
    throw new PhaseControlError(`a backfill state is running, finished or failed, got '${String(status.state)}'`);
  }
  const at = new Date().toISOString();
  const recorded: BackfillStatus = { state: status.state, at };
  const finishedAt = status.finishedAt ?? (status.state === "running" ? undefined : at);
  if (finishedAt !== undefined) recorded.finishedAt = finishedAt;
  const item: Item = { ...controlKey(BACKFILL_STATUS_KEY), state: { S: recorded.state }, at: { S: at } };
  if (finishedAt !== undefined) item.finishedAt = { S: finishedAt };
  await putControlItem(client, tablePrefix, item);
  return recorded;
}

/** The last backfill's state; undefined when none was ever recorded. */
export async function readBackfillStatus(
  client: DynamoDBClient,
  tablePrefix: string,
): Promise<BackfillStatus | undefined> {
  const item = await getControlItem(client, tablePrefix, BACKFILL_STATUS_KEY);
  if (item === undefined) return undefined;
  const state = item.state?.S;
  const status: BackfillStatus = {
    state: state === "running" || state === "finished" || state === "failed" ? state : "failed",
    at: item.at?.S ?? "",
  };
  if (item.finishedAt?.S !== undefined) status.finishedAt = item.finishedAt.S;
  return status;
}

/** Records a validation's result (the validator calls this when it is done); `at` defaults to now. */
export async function recordValidation(
  client: DynamoDBClient,
  tablePrefix: string,
  result: { clean: boolean; mismatches: number; at?: string },
): Promise<ValidationResult> {
  if (!Number.isSafeInteger(result.mismatches) || result.mismatches < 0) {
    throw new PhaseControlError(`a validation's mismatches are a whole number, got ${result.mismatches}`);
  }
  const recorded: ValidationResult = {
    clean: result.clean,
    at: result.at ?? new Date().toISOString(),
    mismatches: result.mismatches,
  };
  await putControlItem(client, tablePrefix, {
    ...controlKey(VALIDATION_KEY),
    clean: { BOOL: recorded.clean },
    at: { S: recorded.at },
    mismatches: { N: String(recorded.mismatches) },
  });
  return recorded;
}

/** The last validation's result; undefined when none was ever recorded. */
export async function readValidation(
  client: DynamoDBClient,
  tablePrefix: string,
): Promise<ValidationResult | undefined> {
  const item = await getControlItem(client, tablePrefix, VALIDATION_KEY);
  if (item === undefined) return undefined;
  return { clean: item.clean?.BOOL === true, at: item.at?.S ?? "", mismatches: Number(item.mismatches?.N ?? 0) };
}

/** Adds to the shadow counters, atomically (ADD), as shadow readers do after comparing. */
export async function addShadowCounts(
  client: DynamoDBClient,
  tablePrefix: string,
  counts: { comparisons: number; mismatches: number },
): Promise<void> {
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new PhaseControlError(`shadow ${name} are added as whole numbers, got ${value}`);
    }
  }
  const table = await ensureControlTable(client, tablePrefix);
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: controlKey(SHADOW_COUNTERS_KEY),
      UpdateExpression: "ADD comparisons :comparisons, mismatches :mismatches",
      ExpressionAttributeValues: {
        ":comparisons": { N: String(counts.comparisons) },
        ":mismatches": { N: String(counts.mismatches) },
      },
    }),
  );
}

/** The shadow counters (zero when nothing was counted yet). */
export async function readShadowCounts(client: DynamoDBClient, tablePrefix: string): Promise<ShadowCounts> {
  const item = await getControlItem(client, tablePrefix, SHADOW_COUNTERS_KEY);
  const counts: ShadowCounts = {
    comparisons: Number(item?.comparisons?.N ?? 0),
    mismatches: Number(item?.mismatches?.N ?? 0),
  };
  if (item?.since?.S !== undefined) counts.since = item.since.S;
  return counts;
}

/** The key attributes of a control-table item. */
export function controlKey(key: ControlKey): Item {
  return { [CONTROL_KEY.partition]: { S: key.pk }, [CONTROL_KEY.sort]: { S: key.sk } };
}

async function getControlItem(client: DynamoDBClient, tablePrefix: string, key: ControlKey): Promise<Item | undefined> {
  const table = await ensureControlTable(client, tablePrefix);
  const out = await client.send(new GetItemCommand({ TableName: table, Key: controlKey(key), ConsistentRead: true }));
  return out.Item;
}

async function putControlItem(client: DynamoDBClient, tablePrefix: string, item: Item): Promise<void> {
  const table = await ensureControlTable(client, tablePrefix);
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
}

function initialState(): PhaseState {
  return { phase: 1, flags: { ...PHASES[1].flags }, ...DEFAULT_PHASE_SETTINGS, version: 0 };
}

function settingsOf(state: PhaseSettings): PhaseSettings {
  return {
    shadowSampleRate: state.shadowSampleRate,
    mismatchThreshold: state.mismatchThreshold,
    minComparisons: state.minComparisons,
  };
}

function sameSettings(a: PhaseSettings, b: PhaseSettings): boolean {
  return (
    a.shadowSampleRate === b.shadowSampleRate &&
    a.mismatchThreshold === b.mismatchThreshold &&
    a.minComparisons === b.minComparisons
  );
}

function settingProblem(name: keyof PhaseSettings, value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a number, got ${String(value)}`;
  if (name === "minComparisons") {
    return Number.isSafeInteger(value) && value >= 0
      ? undefined
      : `minComparisons must be a whole number of 0 or more, got ${value}`;
  }
  return value >= 0 && value <= 1 ? undefined : `${name} must be from 0 to 1, got ${value}`;
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

function stateToItem(state: PhaseState): Item {
  const item: Item = {
    ...controlKey(PHASE_ITEM_KEY),
    phase: { N: String(state.phase) },
    version: { N: String(state.version) },
    shadowSampleRate: { N: String(state.shadowSampleRate) },
    mismatchThreshold: { N: String(state.mismatchThreshold) },
    minComparisons: { N: String(state.minComparisons) },
  };
  if (state.updatedAt !== undefined) item.updatedAt = { S: state.updatedAt };
  if (state.updatedBy !== undefined) item.updatedBy = { S: state.updatedBy };
  return item;
}

function stateFromItem(item: Item): PhaseState {
  const phase = storedPhase(item.phase);
  const state: PhaseState = {
    phase,
    flags: { ...PHASES[phase].flags },
    ...storedSettings(item),
    version: Number(item.version?.N ?? 0),
  };
  if (item.updatedAt?.S !== undefined) state.updatedAt = item.updatedAt.S;
  if (item.updatedBy?.S !== undefined) state.updatedBy = item.updatedBy.S;
  return state;
}

function storedPhase(value: AttributeValue | undefined): Phase {
  const phase = Number(value?.N);
  if (!isPhase(phase))
    throw new PhaseControlError(`the control table holds phase ${String(value?.N)}, which is not a phase`);
  return phase;
}

function storedSettings(item: Item): PhaseSettings {
  const number = (value: AttributeValue | undefined, fallback: number) =>
    value?.N === undefined ? fallback : Number(value.N);
  return {
    shadowSampleRate: number(item.shadowSampleRate, DEFAULT_PHASE_SETTINGS.shadowSampleRate),
    mismatchThreshold: number(item.mismatchThreshold, DEFAULT_PHASE_SETTINGS.mismatchThreshold),
    minComparisons: number(item.minComparisons, DEFAULT_PHASE_SETTINGS.minComparisons),
  };
}

function auditSortKey(version: number): string {
  return `V#${String(version).padStart(VERSION_DIGITS, "0")}`;
}

function auditEntryToItem(entry: PhaseAuditEntry): Item {
  const item: Item = {
    [CONTROL_KEY.partition]: { S: PHASE_AUDIT_PARTITION },
    [CONTROL_KEY.sort]: { S: auditSortKey(entry.version) },
    version: { N: String(entry.version) },
    at: { S: entry.at },
    who: { S: entry.who },
    change: { S: entry.change },
    from: { N: String(entry.from) },
    to: { N: String(entry.to) },
    forced: { BOOL: entry.forced },
    flags: { M: Object.fromEntries(Object.entries(entry.flags).map(([name, on]) => [name, { BOOL: on }])) },
    settings: {
      M: Object.fromEntries(Object.entries(entry.settings).map(([name, value]) => [name, { N: String(value) }])),
    },
  };
  if (entry.reason !== undefined) item.reason = { S: entry.reason };
  return item;
}

function auditEntryFromItem(item: Item): PhaseAuditEntry {
  const flags = item.flags?.M ?? {};
  const entry: PhaseAuditEntry = {
    version: Number(item.version?.N),
    at: item.at?.S ?? "",
    who: item.who?.S ?? "",
    change: item.change?.S === "settings" ? "settings" : "phase",
    from: storedPhase(item.from),
    to: storedPhase(item.to),
    forced: item.forced?.BOOL === true,
    flags: {
      WRITE_MYSQL: flags.WRITE_MYSQL?.BOOL === true,
      WRITE_DDB: flags.WRITE_DDB?.BOOL === true,
      READ_MYSQL: flags.READ_MYSQL?.BOOL === true,
      READ_DDB: flags.READ_DDB?.BOOL === true,
    },
    settings: storedSettings(item.settings?.M ?? {}),
  };
  if (item.reason?.S !== undefined) entry.reason = item.reason.S;
  return entry;
}

/** A history cursor: the version of the last entry returned, opaque to callers. */
function encodeHistoryCursor(version: number): string {
  return Buffer.from(JSON.stringify({ history: version })).toString("base64url");
}

function decodeHistoryCursor(cursor: string): Item {
  let version: unknown;
  try {
    version = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { history?: unknown }).history;
  } catch {
    version = undefined;
  }
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new PhaseControlError("the history cursor is malformed or belongs to another listing; restart the listing");
  }
  return {
    [CONTROL_KEY.partition]: { S: PHASE_AUDIT_PARTITION },
    [CONTROL_KEY.sort]: { S: auditSortKey(version) },
  };
}

function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  if (error.CancellationReasons) return error.CancellationReasons.map((reason) => reason.Code ?? "None");
  const listed = /\[([^\]]*)\]/.exec(error.message)?.[1];
  return listed === undefined ? [] : listed.split(",").map((code) => code.trim());
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}
