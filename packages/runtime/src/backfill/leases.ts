/**
 * Segment leases (BackfillLedger's claim, checkpoint, complete and release): a worker takes an open segment whose lease
 * is free or has run out with one conditional UpdateItem, so two workers never hold the same segment; every later write
 * of the holder is conditional on its claim's token, so a worker whose lease was taken over learns it at its next
 * write (LeaseLost) and its checkpoint is not recorded. Counts are written with the checkpoint they lead up to, so a
 * segment taken over and resumed from its checkpoint does not count a row twice.
 *
 * Checkpoints are throttled per claim (one write per `checkpointIntervalMs`, default 1 s): the calls in between add
 * to what the next write carries, and complete(), release() and flush() always write what is left. A lease runs out
 * `leaseMs` after the holder's last write, measured with the holder's clock against the claimant's: keep leases well
 * above the clock skew between workers.
 */
import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { EntityValue } from "../codec/index.ts";
import { encodeKey, errorText } from "../outbox/entry.ts";
import { BackfillError, LeaseLost } from "./errors.ts";
import {
  type LedgerSegment,
  minuteKey,
  NO_COUNTS,
  type RunRecord,
  readSegments,
  type SegmentCounts,
  type SegmentRecord,
  segmentFromItem,
  segmentKey,
} from "./ledger-items.ts";
import type { WorkerShare } from "./worker-share.ts";

export interface ClaimOptions {
  /** How long the lease lasts after each write of its holder, in milliseconds. */
  leaseMs: number;
  /** Only segments whose number modulo `total` is `index` (workerShare). */
  pin?: WorkerShare;
}

/** A segment a worker holds. */
export interface SegmentClaim {
  readonly runId: string;
  readonly worker: string;
  /** This claim's token: its writes are conditional on it. */
  readonly token: string;
  readonly leaseMs: number;
  readonly segment: LedgerSegment;
  /** The last key done before this claim: resume after it (undefined: from the segment's start). */
  readonly checkpoint?: EntityValue;
  /** The counts recorded for the segment before this claim. */
  readonly counts: SegmentCounts;
  /** Epoch milliseconds, as claimed. */
  readonly leaseExpires: number;
  /** The worker whose lease had run out when this claim took the segment over. */
  readonly takenOverFrom?: string;
}

/** What claim() found: a segment, or why there is none to claim now. */
export type ClaimResult =
  | { kind: "claimed"; claim: SegmentClaim }
  /** Every segment (of the worker's share, with a pin) is done. */
  | { kind: "done" }
  /** The segments left are held by live workers; the first lease runs out at `retryAt` (epoch ms). */
  | { kind: "leased"; retryAt: number }
  /** An operator stopped the run (BackfillLedger.stop): no segment is claimed until it is resumed. */
  | { kind: "stopped"; who: string; at: string };

/** What a worker reports with a checkpoint: the last key done, and counts since its last report. */
export interface CheckpointProgress {
  /** The last key done (the primary-key attributes); undefined keeps the checkpoint where it is. */
  after?: EntityValue;
  written?: number;
  skipped?: number;
  rejected?: number;
  errors?: number;
}

interface Pending {
  counts: SegmentCounts;
  after?: EntityValue;
  lastWrite: number;
  /**
   * The claim's writes, one after another: the lease keeper's flush and the worker's checkpoints would otherwise
   * overlap, and a write that reset the counts after another had added to them lost those (or two sent the same).
   */
  chain: Promise<void>;
  /** Writes sent so far: each carries `<token>#<n>` as the segment's `lastWriteId` (a retried write is seen landed). */
  writes: number;
}

type End = { kind: "done" } | { kind: "release"; error?: string } | undefined;

/** How often claim() reads the segments again when every segment it tried was taken by another worker first. */
const CLAIM_ROUNDS = 5;

export class SegmentLeases {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: () => Promise<string>,
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {}

  async claim(run: RunRecord, worker: string, options: ClaimOptions): Promise<ClaimResult> {
    if (!Number.isSafeInteger(options.leaseMs) || options.leaseMs <= this.intervalMs) {
      throw new BackfillError(
        `a lease must be a whole number of milliseconds above the checkpoint interval (${this.intervalMs} ms), got ${options.leaseMs}`,
      );
    }
    if (worker.trim() === "") throw new BackfillError("a worker needs a name to claim a segment");
    const table = await this.table();
    for (let round = 1; ; round++) {
      const now = this.now();
      const pin = options.pin;
      const mine = (await readSegments(this.client, table, run.id)).filter(
        (record) => pin === undefined || record.segment.number % pin.total === pin.index,
      );
      const open = mine.filter((record) => record.state === "open");
      if (open.length === 0) return { kind: "done" };
      const free = open
        .filter((record) => record.lease === undefined || record.lease.expires <= now)
        .sort((a, b) => a.segment.number - b.segment.number);
      for (const record of free) {
        const claim = await this.take(table, run.id, worker, record, options.leaseMs, now);
        if (claim !== undefined) return { kind: "claimed", claim };
      }
      if (free.length === 0 || round === CLAIM_ROUNDS) {
        const expiries = open.map((record) => record.lease?.expires ?? now);
        return { kind: "leased", retryAt: Math.min(...expiries) };
      }
    }
  }

  /** Takes `record`'s segment if it is still as read (open, its lease free or the same one run out); else undefined. */
  private async take(
    table: string,
    runId: string,
    worker: string,
    record: SegmentRecord,
    leaseMs: number,
    now: number,
  ): Promise<SegmentClaim | undefined> {
    const token = randomUUID();
    const expires = now + leaseMs;
    const seen = record.lease;
    const values: Record<string, AttributeValue> = {
      ":open": { S: "open" },
      ":owner": { S: worker },
      ":token": { S: token },
      ":expires": { N: String(expires) },
      ":at": { S: new Date(now).toISOString() },
    };
    if (seen !== undefined) {
      values[":seen"] = { S: seen.token };
      values[":now"] = { N: String(now) };
    }
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: segmentKey(runId, record.segment.entity, record.segment.index),
          UpdateExpression:
            "SET #owner = :owner, #token = :token, #expires = :expires, #claimedAt = :at, #updatedAt = :at",
          ConditionExpression: `#state = :open AND ${seen === undefined ? "attribute_not_exists(#token)" : "#token = :seen AND #expires <= :now"}`,
          ExpressionAttributeNames: {
            "#state": "state",
            "#owner": "leaseOwner",
            "#token": "leaseToken",
            "#expires": "leaseExpires",
            "#claimedAt": "claimedAt",
            "#updatedAt": "updatedAt",
          },
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      const taken = segmentFromItem(out.Attributes ?? {});
      this.pending.set(token, { counts: { ...NO_COUNTS }, lastWrite: now, chain: Promise.resolve(), writes: 0 });
      return {
        runId,
        worker,
        token,
        leaseMs,
        segment: taken.segment,
        ...(taken.checkpoint === undefined ? {} : { checkpoint: taken.checkpoint }),
        counts: taken.counts,
        leaseExpires: expires,
        ...(seen === undefined ? {} : { takenOverFrom: seen.owner }),
      };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Adds `progress` to the claim's next write, written now when the last was `intervalMs` ago: true when written. */
  async checkpoint(claim: SegmentClaim, progress: CheckpointProgress): Promise<boolean> {
    const pending = this.add(claim, progress);
    if (this.now() - pending.lastWrite < this.intervalMs) return false;
    await this.write(claim, pending, undefined);
    return true;
  }

  /** Writes what the claim's checkpoints left unwritten (and extends its lease). */
  async flush(claim: SegmentClaim): Promise<void> {
    await this.write(claim, this.add(claim, {}), undefined);
  }

  /** Marks the segment done, with the last progress; LeaseLost when the claim no longer holds it. */
  async complete(claim: SegmentClaim, progress: CheckpointProgress = {}): Promise<void> {
    await this.write(claim, this.add(claim, progress), { kind: "done" });
  }

  /**
   * Gives the segment back (open, its lease free) after writing the last progress; with `error`, counts one error and
   * keeps its text on the segment. False when the claim no longer held the segment (nothing was written).
   */
  async release(claim: SegmentClaim, options: { error?: unknown } = {}): Promise<boolean> {
    try {
      const pending = this.add(claim, options.error === undefined ? {} : { errors: 1 });
      await this.write(claim, pending, {
        kind: "release",
        ...(options.error === undefined ? {} : { error: errorText(options.error) }),
      });
      return true;
    } catch (error) {
      if (error instanceof LeaseLost) return false;
      throw error;
    }
  }

  private add(claim: SegmentClaim, progress: CheckpointProgress): Pending {
    const pending = this.pending.get(claim.token);
    if (pending === undefined) {
      throw new LeaseLost(
        `segment ${claim.segment.entity} #${claim.segment.index} of backfill run ${claim.runId} is no longer held by ${claim.worker}: this claim was completed, released or lost already`,
      );
    }
    for (const field of ["written", "skipped", "rejected", "errors"] as const) {
      const count = progress[field] ?? 0;
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new BackfillError(`a checkpoint's ${field} must be a whole number from 0 up, got ${count}`);
      }
      pending.counts[field] += count;
    }
    if (progress.after !== undefined) pending.after = progress.after;
    return pending;
  }

  /** Writes what is pending (and `end`) after the claim's writes before it: one at a time, in the order asked. */
  private write(claim: SegmentClaim, pending: Pending, end: End): Promise<void> {
    const next = pending.chain.catch(() => {}).then(() => this.writeNow(claim, pending, end));
    pending.chain = next;
    return next;
  }

  /**
   * Sends the counts and checkpoint pending now; on success takes exactly those off what is pending, so progress
   * added while the write was on its way is kept for the next one. The counts are ADDed, which a write applied twice
   * would count twice: each write names itself (`lastWriteId`) and is refused when the segment already carries its
   * name, so when an answer was lost and the SDK sends it again, the second one is refused, and read back as landed.
   */
  private async writeNow(claim: SegmentClaim, pending: Pending, end: End): Promise<void> {
    const sent = { counts: { ...pending.counts }, after: pending.after };
    const writeId = `${claim.token}#${++pending.writes}`;
    const now = this.now();
    const at = new Date(now).toISOString();
    const names: Record<string, string> = {
      "#state": "state",
      "#token": "leaseToken",
      "#updatedAt": "updatedAt",
      "#writeId": "lastWriteId",
    };
    const values: Record<string, AttributeValue> = {
      ":open": { S: "open" },
      ":token": { S: claim.token },
      ":at": { S: at },
      ":writeId": { S: writeId },
    };
    const set = ["#updatedAt = :at", "#writeId = :writeId"];
    const add: string[] = [];
    const remove: string[] = [];
    if (sent.after !== undefined) {
      names["#checkpoint"] = "checkpoint";
      values[":checkpoint"] = { S: encodeKey(sent.after) };
      set.push("#checkpoint = :checkpoint");
    }
    for (const field of ["written", "skipped", "rejected", "errors"] as const) {
      if (sent.counts[field] === 0) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = { N: String(sent.counts[field]) };
      add.push(`#${field} :${field}`);
    }
    names["#expires"] = "leaseExpires";
    if (end === undefined) {
      values[":expires"] = { N: String(now + claim.leaseMs) };
      set.push("#expires = :expires");
    } else {
      names["#owner"] = "leaseOwner";
      remove.push("#owner", "#token", "#expires");
      if (end.kind === "done") {
        names["#doneAt"] = "doneAt";
        values[":done"] = { S: "done" };
        set.push("#state = :done", "#doneAt = :at");
      } else if (end.error !== undefined) {
        names["#lastError"] = "lastError";
        values[":lastError"] = { S: end.error };
        set.push("#lastError = :lastError");
      }
    }
    const table = await this.table();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: segmentKey(claim.runId, claim.segment.entity, claim.segment.index),
          UpdateExpression: [
            `SET ${set.join(", ")}`,
            add.length > 0 ? `ADD ${add.join(", ")}` : "",
            remove.length > 0 ? `REMOVE ${remove.join(", ")}` : "",
          ]
            .filter((part) => part !== "")
            .join(" "),
          ConditionExpression:
            "#token = :token AND #state = :open AND (attribute_not_exists(#writeId) OR #writeId <> :writeId)",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!(await this.landed(table, claim, writeId))) {
        this.pending.delete(claim.token);
        throw await this.lost(table, claim, error);
      }
    }
    const { written, skipped } = sent.counts;
    if (end === undefined) {
      for (const field of ["written", "skipped", "rejected", "errors"] as const)
        pending.counts[field] -= sent.counts[field];
      if (pending.after === sent.after) delete pending.after;
      pending.lastWrite = now;
    } else {
      this.pending.delete(claim.token);
    }
    if (written + skipped > 0) await this.addMinute(table, claim.runId, now, written, skipped);
  }

  /**
   * Adds checkpointed counts to the run's minute (its chart over the whole run). Display only: the segment's counts
   * are the record, so a minute that cannot be written is not tried again and fails nothing.
   */
  private async addMinute(table: string, runId: string, at: number, written: number, skipped: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: minuteKey(runId, at),
          UpdateExpression: "ADD written :written, skipped :skipped",
          ExpressionAttributeValues: { ":written": { N: String(written) }, ":skipped": { N: String(skipped) } },
        }),
      );
    } catch {
      // The chart misses this checkpoint's rows; the run's counts do not.
    }
  }

  /** Whether the segment carries this write already (an attempt whose answer was lost had landed). */
  private async landed(table: string, claim: SegmentClaim, writeId: string): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: table,
        Key: segmentKey(claim.runId, claim.segment.entity, claim.segment.index),
        ConsistentRead: true,
      }),
    );
    return out.Item?.lastWriteId?.S === writeId;
  }

  /** Why `claim` no longer holds its segment, as the segment item says now. */
  private async lost(table: string, claim: SegmentClaim, cause: unknown): Promise<LeaseLost> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: table,
        Key: segmentKey(claim.runId, claim.segment.entity, claim.segment.index),
        ConsistentRead: true,
      }),
    );
    const record = out.Item === undefined ? undefined : segmentFromItem(out.Item);
    const what = `segment ${claim.segment.entity} #${claim.segment.index} of backfill run ${claim.runId}`;
    const why =
      record === undefined
        ? "the segment is gone from the control table"
        : record.state === "done"
          ? `it was completed (at ${record.doneAt ?? "an unknown time"})`
          : record.lease === undefined
            ? "its lease was released"
            : `its lease ran out and ${record.lease.owner} took it over at ${record.claimedAt ?? "an unknown time"}`;
    return new LeaseLost(`${what} is no longer held by ${claim.worker}: ${why}; its checkpoint was not recorded`, {
      hint: "stop writing this segment: its holder resumes it from the last recorded checkpoint (a longer lease, or checkpoints more often, avoid this)",
      cause,
    });
  }
}
