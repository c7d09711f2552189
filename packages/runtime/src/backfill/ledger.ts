/**
 * BackfillLedger: the bookkeeping of `ferry backfill run`, in the control table, so that several processes or
 * machines share one run, a dead worker's segment is taken over, a killed run resumes from its checkpoints, and any
 * process (the admin app, a second terminal) can follow a run it did not start.
 *
 * | pk                    | sk                     | what                                                              |
 * |-----------------------|------------------------|-------------------------------------------------------------------|
 * | `BACKFILL`            | `OPEN`                 | `runId`, `contract`, `entities`: the open run (one at a time: it  |
 * |                       |                        | is created on condition that it does not exist, and deleted when  |
 * |                       |                        | the run finishes or fails)                                        |
 * | `BACKFILL`            | `LATEST`               | the last backfill's state for the 2 -> 3 guard rail               |
 * |                       |                        | (control/backfill-status.ts), written as a run starts and ends    |
 * | `BACKFILL#RUN`        | run id                 | one run: `contract`, `entities` (L), `who`, `state` (running,     |
 * |                       |                        | finished, failed), `startedAt`, `finishedAt`, `failure`,          |
 * |                       |                        | `dualWriteSince` (N), `options` (JSON), `segments` (N), while an  |
 * |                       |                        | operator has it stopped `stoppedBy` and `stoppedAt`, and at its   |
 * |                       |                        | end `totals` (JSON: the per-entity counts)                        |
 * | `BACKFILL#RUN#<id>`   | `SEG#<entity>#<index>` | one segment (index: 6 digits): `number` (N, run-wide), `after`,   |
 * |                       |                        | `through` (its bounds), `estimatedRows`, `state` (open, done),    |
 * |                       |                        | `checkpoint` (the last key done), `written`, `skipped`,           |
 * |                       |                        | `rejected`, `errors` (N), the lease (`leaseOwner`, `leaseToken`,  |
 * |                       |                        | `leaseExpires`: epoch ms), `claimedAt`, `lastError`, `doneAt`     |
 * | `BACKFILL#RUN#<id>`   | `MINUTE#<minute>`      | `written`, `skipped` (N): the rows checkpointed in that minute    |
 * |                       |                        | (UTC, `2025-01-02T03:04Z`), for the run's chart (display only)    |
 * | `BACKFILL#RUN#<id>`   | `REJECTED`             | `stored` (N): the rejected rows kept for the run                  |
 * | `BACKFILL#RUN#<id>`   | `REJECTED#<entity>#<h>`| one rejected row (h: a hash of its key): `entity`, `key`,         |
 * |                       |                        | `reason`, `at`                                                    |
 *
 * Keys (bounds, checkpoints, rejected rows) are JSON of the primary-key attributes (outbox/entry.ts encodeKey: bigint
 * and bytes tagged). Run ids are the start time (`20250102T030405678Z-<6 hex>`), so newest first is descending sort
 * key order. Every write is conditional on what it changes (a run's state, a segment's lease token, the open-run
 * pointer); nothing is read, changed and written back without one. A process killed after writing a new run's
 * segments and before opening the run leaves them in a partition that nothing refers to.
 *
 * A run's end: finish() when every segment of every entity is done (the write path closes its window of live writes
 * first), in one transaction with the backfill status "finished"; fail() marks it failed the same way. Workers of a
 * failed run learn it at their next claim (BackfillRunClosed); the segment they hold is not claimed again.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { EntityValue } from "../codec/index.ts";
import { AuditTrail } from "../control/audit-trail.ts";
import { currentRunOfDualWrites } from "../control/backfill-status.ts";
import { controlKey, ensureControlTable, newestFirst } from "../control/table.ts";
import { cancellationCodes } from "../dynamodb/cancellation-codes.ts";
import {
  BackfillError,
  BackfillNotFinished,
  BackfillRunClosed,
  BackfillRunNotFound,
  BackfillStoppedAgain,
} from "./errors.ts";
import {
  type CheckpointProgress,
  type ClaimOptions,
  type ClaimResult,
  type SegmentClaim,
  SegmentLeases,
} from "./leases.ts";
import {
  BACKFILL_RUNS_PARTITION,
  type EntityTotals,
  OPEN_RUN_KEY,
  type RunMinute,
  type RunRecord,
  type RunStop,
  readRunMinutes,
  readSegments,
  runFromItem,
  runKey,
  segmentItem,
  segmentKey,
  totalsOf,
} from "./ledger-items.ts";
import { DEFAULT_REJECTED_LIMIT, RejectedRowLog, type RejectedRows } from "./rejected.ts";
import { type RunReport, runReport } from "./run-report.ts";
import { batchWrite, closeRunWrites, failedRun, joined, numbered, openRunWrites } from "./run-writes.ts";
import type { PlannedSegment } from "./segments.ts";

export interface BackfillLedgerOptions {
  /** Put in front of the control table's name (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
  /** The clock (default Date.now). */
  now?: () => number;
  /** The least time between two checkpoint writes of one claim (default 1000 ms). */
  checkpointIntervalMs?: number;
  /** The rejected rows a run keeps with their key and reason (default 1,000). */
  rejectedLimit?: number;
}

export interface CreateRunInput {
  /** The contract's name: the open run is joined only for the same contract and entities. */
  contract: string;
  /** Who starts it (an operator, a host). */
  who: string;
  /** The entities it copies, in the order their segments are numbered. */
  entities: readonly string[];
  /** Their segments (planSegments), or how to plan them: called only when a new run is created. */
  segments: readonly PlannedSegment[] | (() => Promise<readonly PlannedSegment[]>);
  /** The run of dual writes it is made in; default: the phase item's now (currentRunOfDualWrites). */
  dualWriteSince?: number;
  /** The options it runs with, recorded as given (JSON values). */
  options?: Record<string, unknown>;
}

/** The run a worker works in: one it created, or the open one it joined. */
export interface RunHandle {
  id: string;
  joined: boolean;
}

/** The default checkpoint interval: at most one checkpoint write per second per worker. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

const DEFAULT_RUNS_LIMIT = 20;
/** How often creating a run is tried when its transaction met another worker's. */
const CREATE_ATTEMPTS = 5;
const MAX_RUNS_LIMIT = 1000;

/** A worker name unique to this process: host, process id and a random part. */
export function defaultWorkerName(): string {
  return `${hostname()}#${process.pid}#${randomBytes(2).toString("hex")}`;
}

export class BackfillLedger {
  readonly tablePrefix: string;
  private readonly now: () => number;
  private readonly leases: SegmentLeases;
  private readonly rejectedRows: RejectedRowLog;
  private readonly trail: AuditTrail;

  constructor(
    readonly client: DynamoDBClient,
    options: BackfillLedgerOptions,
  ) {
    this.tablePrefix = options.tablePrefix;
    this.now = options.now ?? Date.now;
    const interval = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    const limit = options.rejectedLimit ?? DEFAULT_REJECTED_LIMIT;
    if (!Number.isSafeInteger(interval) || interval < 0) {
      throw new BackfillError(`a checkpoint interval is a whole number of milliseconds, got ${interval}`);
    }
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new BackfillError(`the rejected rows kept are a whole number from 0 up, got ${limit}`);
    }
    const table = () => this.table();
    this.leases = new SegmentLeases(client, table, this.now, interval);
    this.rejectedRows = new RejectedRowLog(client, table, this.now, limit);
    this.trail = new AuditTrail(client, { tablePrefix: this.tablePrefix, now: this.now });
  }

  /**
   * Records what happened to a run in the audit trail (a run started, stopped, resumed, ended), whoever did it: the
   * CLI, the console, a job runner. A trail that cannot be written is told on stderr; the run's change stands.
   */
  private async recorded(entry: Parameters<AuditTrail["record"]>[0]): Promise<void> {
    try {
      await this.trail.record(entry);
    } catch (error) {
      console.error(`ferry: the audit trail could not record "${entry.what}"`, error);
    }
  }

  /** The control table's name, once it exists (created on first use). */
  table(): Promise<string> {
    return ensureControlTable(this.client, this.tablePrefix);
  }

  /**
   * Creates a run of `entities` (its segments written, then the run, the open-run pointer and the backfill status
   * "running" in one transaction), or joins the open run when it is of the same contract and entities; BackfillRunOpen
   * when the open run is another's.
   */
  async createRun(input: CreateRunInput): Promise<RunHandle> {
    const who = input.who.trim();
    if (who === "") throw new BackfillError("a backfill run must say who starts it");
    if (input.entities.length === 0) throw new BackfillError("a backfill run needs at least one entity");
    if (new Set(input.entities).size !== input.entities.length) {
      throw new BackfillError(`a backfill run names each entity once, got ${input.entities.join(", ")}`);
    }
    const first = await this.openRun();
    if (first !== undefined) return joined(first, input);
    const segments = numbered(
      input.entities,
      typeof input.segments === "function" ? await input.segments() : input.segments,
    );
    const at = new Date(this.now()).toISOString();
    const id = `${at.replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`;
    const dualWriteSince = input.dualWriteSince ?? (await currentRunOfDualWrites(this.client, this.tablePrefix));
    const run: RunRecord = {
      id,
      contract: input.contract,
      entities: [...input.entities],
      who,
      state: "running",
      startedAt: at,
      options: input.options ?? {},
      segments: segments.length,
      ...(dualWriteSince === undefined ? {} : { dualWriteSince }),
    };
    const table = await this.table();
    await batchWrite(
      this.client,
      table,
      segments.map((segment) => ({ PutRequest: { Item: segmentItem(id, segment) } })),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: openRunWrites(table, run) }));
        const rate = run.options.rate;
        await this.recorded({
          who,
          kind: "backfill",
          what: `backfill run ${id} started (${run.entities.join(", ")}${typeof rate === "number" ? `, at most ${rate} items/s` : ""})`,
        });
        return { id, joined: false };
      } catch (error) {
        const codes = cancellationCodes(error);
        // Anything but another worker's run opened first (or being opened at this moment) is not for this loop.
        if (codes === undefined || !(codes[1] === "ConditionalCheckFailed" || codes.includes("TransactionConflict"))) {
          throw error;
        }
        const other = await this.openRun();
        if (other !== undefined) {
          // Take this run's segments back and join that one.
          const keys = segments.map((segment) => ({
            DeleteRequest: { Key: segmentKey(id, segment.entity, segment.index) },
          }));
          await batchWrite(this.client, table, keys);
          return joined(other, input);
        }
        if (attempt === CREATE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  /** Takes an unfinished segment of the run (of the worker's share, with a pin); see SegmentLeases. */
  async claim(runId: string, worker: string, options: ClaimOptions): Promise<ClaimResult> {
    const run = await this.run(runId);
    if (run.state === "failed") throw failedRun(run);
    if (run.state === "finished") return { kind: "done" };
    if (run.stopped !== undefined) return { kind: "stopped", ...run.stopped };
    return this.leases.claim(run, worker, options);
  }

  /** Records progress (throttled): true when written now. LeaseLost when the claim no longer holds its segment. */
  checkpoint(claim: SegmentClaim, progress: CheckpointProgress): Promise<boolean> {
    return this.leases.checkpoint(claim, progress);
  }

  /** Writes the progress the throttle held back, and extends the lease. */
  flush(claim: SegmentClaim): Promise<void> {
    return this.leases.flush(claim);
  }

  /** Marks the claim's segment done, with its last progress. */
  complete(claim: SegmentClaim, progress: CheckpointProgress = {}): Promise<void> {
    return this.leases.complete(claim, progress);
  }

  /** Gives the segment back for another claim (with `error`: counted, and kept as its last error). */
  release(claim: SegmentClaim, options: { error?: unknown } = {}): Promise<boolean> {
    return this.leases.release(claim, options);
  }

  /** Keeps a row the codec could not map (the first `rejectedLimit` of a run); count it with a checkpoint too. */
  recordRejected(runId: string, entity: string, key: EntityValue, reason: string): Promise<void> {
    return this.rejectedRows.record(runId, entity, key, reason);
  }

  /** A run's rejected rows: how many in all, and the ones kept. */
  async rejected(runId: string): Promise<RejectedRows> {
    const report = await this.progress(runId);
    return { count: report.rejected, rows: await this.rejectedRows.rows(runId), limit: this.rejectedRows.limit };
  }

  /** A run with its counts, read from its segments now. */
  async progress(runId: string): Promise<RunReport> {
    const run = await this.run(runId);
    const now = this.now();
    return runReport(run, totalsOf(run, await readSegments(this.client, await this.table(), runId), now), now);
  }

  /** The runs, newest first (`limit`, default 20): the open one counted from its segments, ended ones as they ended. */
  async runs(limit = DEFAULT_RUNS_LIMIT): Promise<RunReport[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RUNS_LIMIT) {
      throw new BackfillError(`a runs limit is a whole number from 1 to ${MAX_RUNS_LIMIT}, got ${limit}`);
    }
    const table = await this.table();
    const page = await newestFirst(this.client, { table, partition: BACKFILL_RUNS_PARTITION, limit });
    const reports: RunReport[] = [];
    for (const item of page.items) {
      const run = runFromItem(item);
      const now = this.now();
      const totals = run.totals ?? totalsOf(run, await readSegments(this.client, table, run.id), now);
      reports.push(runReport(run, totals, now));
    }
    return reports;
  }

  /** A run's rows written and skipped minute by minute, oldest first (its chart over the whole run). */
  async minutes(runId: string): Promise<RunMinute[]> {
    return readRunMinutes(this.client, await this.table(), runId);
  }

  /** Whether a run other than `runId` was ever recorded (two run records read, nothing else). */
  async hasOtherRun(runId: string): Promise<boolean> {
    const table = await this.table();
    const page = await newestFirst(this.client, { table, partition: BACKFILL_RUNS_PARTITION, limit: 2 });
    return page.items.some((item) => {
      try {
        return runFromItem(item).id !== runId;
      } catch {
        return true; // a record this version cannot read is another run all the same
      }
    });
  }

  /** The open run with its counts; undefined when no run is open. */
  async current(): Promise<RunReport | undefined> {
    const open = await this.openRun();
    return open === undefined ? undefined : this.progress(open.id);
  }

  /**
   * Ends the run as finished when every segment of every entity is done (BackfillNotFinished otherwise), recording
   * the backfill status "finished" with the run's dualWriteSince in the same transaction. Finishing a finished run
   * returns it as it is.
   */
  async finish(runId: string): Promise<RunReport> {
    const run = await this.run(runId);
    if (run.state === "finished") return this.report(run);
    if (run.state === "failed") throw failedRun(run);
    const now = this.now();
    const segments = await readSegments(this.client, await this.table(), runId);
    const open = segments.filter((record) => record.state === "open");
    if (open.length > 0) {
      const named = open.slice(0, 5).map((record) => {
        const { entity, index } = record.segment;
        const lease = record.lease;
        const held = lease !== undefined && lease.expires > now;
        return `${entity} #${index}${held ? ` (held by ${lease.owner})` : ""}`;
      });
      throw new BackfillNotFinished(
        `backfill run ${runId} cannot finish: ${open.length} of ${segments.length} segments are not done (${named.join(", ")}${open.length > 5 ? ", ..." : ""})`,
        { hint: "let its workers finish them (a run started again with the same entities joins it)" },
      );
    }
    return this.close(run, "finished", totalsOf(run, segments, now));
  }

  /** Ends the run as failed, recording the backfill status "failed"; failing a failed run returns it as it is. */
  async fail(runId: string, reason: string): Promise<RunReport> {
    const why = reason.trim();
    if (why === "") throw new BackfillError("failing a backfill run needs a reason");
    const run = await this.run(runId);
    if (run.state === "failed") return this.report(run);
    if (run.state === "finished") {
      throw new BackfillRunClosed(`backfill run ${runId} has finished (at ${run.finishedAt}); it cannot fail`);
    }
    const segments = await readSegments(this.client, await this.table(), runId);
    return this.close(run, "failed", totalsOf(run, segments, this.now()), why);
  }

  /**
   * Stops a running run for every worker, wherever it runs: each gives its segment back after the page under way (it
   * sees the stop within a third of its lease) and claims nothing more, and no worker joins it until resume(). The run
   * stays open, its checkpoints kept. Stopping a stopped run keeps who stopped it first. BackfillRunClosed when it
   * has ended.
   */
  async stop(runId: string, who: string): Promise<RunReport> {
    const { report, changed } = await this.setStopped(runId, who, true);
    // Recorded by the stop that set the mark only (of two at once, one): the update says which it was.
    if (changed) {
      await this.recorded({
        who,
        kind: "backfill",
        what: `backfill run ${runId} stopped (its workers give their segments back after the page under way)`,
      });
    }
    return report;
  }

  /**
   * Lets a stopped run be claimed again (workers are to be started: a stopped worker has ended). With `seen`, only
   * the stop that was seen is undone: a run stopped again meanwhile (another stop after a resume) stays stopped
   * (BackfillStoppedAgain); one resumed meanwhile by someone else is left as it is, running.
   */
  async resume(runId: string, who: string, seen?: RunStop): Promise<RunReport> {
    const { report, changed } = await this.setStopped(runId, who, false, seen);
    if (changed) await this.recorded({ who, kind: "backfill", what: `backfill run ${runId} resumed` });
    return report;
  }

  /** Sets or clears the stop mark; `changed` when this call did (not: it was so already, or another resume did it). */
  private async setStopped(
    runId: string,
    who: string,
    stop: boolean,
    seen?: RunStop,
  ): Promise<{ report: RunReport; changed: boolean }> {
    const name = who.trim();
    if (name === "") throw new BackfillError(`${stop ? "stopping" : "resuming"} a backfill run must say who does it`);
    const table = await this.table();
    const names: Record<string, string> = { "#state": "state" };
    const values: Record<string, AttributeValue> = { ":running": { S: "running" } };
    let condition = "attribute_exists(pk) AND #state = :running";
    if (seen !== undefined) {
      names["#stoppedAt"] = "stoppedAt";
      values[":seen"] = { S: seen.at };
      condition += " AND #stoppedAt = :seen";
    }
    if (stop) {
      values[":who"] = { S: name };
      values[":at"] = { S: new Date(this.now()).toISOString() };
    }
    let changed: boolean;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: runKey(runId),
          UpdateExpression: stop
            ? "SET stoppedBy = if_not_exists(stoppedBy, :who), stoppedAt = if_not_exists(stoppedAt, :at)"
            : "REMOVE stoppedBy, stoppedAt",
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "UPDATED_OLD",
        }),
      );
      // A stop changed the run when there was no mark before it; a resume when there was one.
      const hadMark = out.Attributes?.stoppedAt !== undefined;
      changed = stop ? !hadMark : hadMark;
    } catch (error) {
      if ((error as { name?: unknown }).name !== "ConditionalCheckFailedException") throw error;
      const run = await this.run(runId); // BackfillRunNotFound when there is none
      if (run.state === "running" && seen !== undefined) {
        // Resumed meanwhile by someone else: what this resume wanted holds.
        if (!stop && run.stopped === undefined) return { report: await this.progress(runId), changed: false };
        throw new BackfillStoppedAgain(
          `backfill run ${runId} was stopped again by ${run.stopped?.who} at ${run.stopped?.at}; it stays stopped`,
        );
      }
      throw new BackfillRunClosed(
        `backfill run ${runId} has ${run.state}${run.finishedAt === undefined ? "" : ` (at ${run.finishedAt})`}; it cannot be ${stop ? "stopped" : "resumed"}`,
      );
    }
    return { report: await this.progress(runId), changed };
  }

  /** A run as stored; BackfillRunNotFound when there is none. */
  async run(runId: string): Promise<RunRecord> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: await this.table(), Key: runKey(runId), ConsistentRead: true }),
    );
    if (out.Item === undefined) throw new BackfillRunNotFound(runId);
    return runFromItem(out.Item);
  }

  private async openRun(): Promise<RunRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: await this.table(), Key: controlKey(OPEN_RUN_KEY), ConsistentRead: true }),
    );
    const runId = out.Item?.runId?.S;
    return runId === undefined ? undefined : this.run(runId);
  }

  private async report(run: RunRecord): Promise<RunReport> {
    const now = this.now();
    return runReport(
      run,
      run.totals ?? totalsOf(run, await readSegments(this.client, await this.table(), run.id), now),
      now,
    );
  }

  /** The run's end: its state, the open-run pointer gone, the backfill status, in one transaction. */
  private async close(
    run: RunRecord,
    state: "finished" | "failed",
    totals: EntityTotals[],
    failure?: string,
  ): Promise<RunReport> {
    const table = await this.table();
    const at = new Date(this.now()).toISOString();
    try {
      await this.client.send(
        new TransactWriteItemsCommand({ TransactItems: closeRunWrites(table, run, { state, at, totals, failure }) }),
      );
    } catch (error) {
      if (cancellationCodes(error) === undefined) throw error;
      // Another worker ended it at the same moment: report it as it ended.
      const now = await this.run(run.id);
      if (now.state === state) return this.report(now);
      if (now.state === "running") throw error;
      throw new BackfillRunClosed(`backfill run ${run.id} ${now.state} meanwhile (at ${now.finishedAt})`, {
        cause: error,
      });
    }
    const ended = await this.report(await this.run(run.id));
    await this.recorded({
      who: run.who,
      kind: "backfill",
      what:
        state === "finished"
          ? `backfill run ${run.id} finished: ${ended.written} rows written, ${ended.skipped} skipped, ${ended.rejected} rejected`
          : `backfill run ${run.id} failed: ${failure ?? ""}`,
    });
    return ended;
  }
}
