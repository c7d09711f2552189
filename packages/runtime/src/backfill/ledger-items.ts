/**
 * The backfill ledger's items in the control table and what they say (the layout is in ledger.ts's header): keys,
 * the records read back, and their conversions.
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import type { EntityValue } from "../codec/index.ts";
import { CONTROL_KEY, type ControlItem, type ControlKey, controlKey } from "../control/table.ts";
import { decodeKey, encodeKey } from "../outbox/entry.ts";
import type { PlannedSegment } from "./segments.ts";

/** The partition of the run items (sort key: the run id, so newest first is descending order). */
export const BACKFILL_RUNS_PARTITION = "BACKFILL#RUN";

/** The open run's pointer: it exists while a run is open, and its conditional creation makes runs one at a time. */
export const OPEN_RUN_KEY: ControlKey = { pk: "BACKFILL", sk: "OPEN" };

/** The sort key prefix of a run's segments. */
export const SEGMENT_PREFIX = "SEG#";

/** The sort key prefix of a run's rejected rows. */
export const REJECTED_PREFIX = "REJECTED#";

/** The sort key of a run's count of stored rejected rows. */
export const REJECTED_COUNTER = "REJECTED";

/** The partition of one run's segments and rejected rows. */
export function runPartition(runId: string): string {
  return `BACKFILL#RUN#${runId}`;
}

export function runKey(runId: string): ControlItem {
  return controlKey({ pk: BACKFILL_RUNS_PARTITION, sk: runId });
}

export function segmentKey(runId: string, entity: string, index: number): ControlItem {
  return controlKey({ pk: runPartition(runId), sk: `${SEGMENT_PREFIX}${entity}#${String(index).padStart(6, "0")}` });
}

export type RunState = "running" | "finished" | "failed";

/** Rows a worker reports for a segment. */
export interface SegmentCounts {
  /** Rows written to DynamoDB. */
  written: number;
  /** Rows read and left alone (e.g. already there, or newer there). */
  skipped: number;
  /** Rows the codec could not map (recordRejected keeps the first of them). */
  rejected: number;
  /** Failed attempts (a batch that failed, a claim given up with an error). */
  errors: number;
}

export const NO_COUNTS: Readonly<SegmentCounts> = { written: 0, skipped: 0, rejected: 0, errors: 0 };

/** A planned segment as the ledger keeps it: with its run-wide number (what a worker's share is taken modulo). */
export interface LedgerSegment extends PlannedSegment {
  /** From 0 across the run, in the run's entity order, then by index. */
  readonly number: number;
}

/** A segment's lease: who holds it, the claim's token, and until when (epoch milliseconds, the holder's clock). */
export interface Lease {
  owner: string;
  token: string;
  expires: number;
}

/** A segment item read back. */
export interface SegmentRecord {
  segment: LedgerSegment;
  state: "open" | "done";
  /** The last key done; undefined: nothing yet. */
  checkpoint?: EntityValue;
  counts: SegmentCounts;
  lease?: Lease;
  /** ISO-8601, of the last claim. */
  claimedAt?: string;
  lastError?: string;
  /** ISO-8601. */
  doneAt?: string;
}

/** Counts of one entity of a run. */
export interface EntityTotals extends SegmentCounts {
  entity: string;
  segments: number;
  segmentsDone: number;
  /** Open segments whose lease has not run out (0 once the run has ended). */
  segmentsLeased: number;
  /** The rows the plan counted. */
  rowsEstimated: number;
}

/** A run item read back. */
export interface RunRecord {
  id: string;
  /** The contract's name: a worker joins the open run only for the same contract and entities. */
  contract: string;
  entities: string[];
  who: string;
  state: RunState;
  /** ISO-8601. */
  startedAt: string;
  /** ISO-8601, once it has finished or failed. */
  finishedAt?: string;
  /** Why it failed. */
  failure?: string;
  /** The run of dual writes it was made in (PhaseState.dualWriteSince when it started); absent: dual writes were off. */
  dualWriteSince?: number;
  /** The options it was started with, as given (JSON). */
  options: Record<string, unknown>;
  /** Its segments, in all. */
  segments: number;
  /** The per-entity counts when it finished or failed. */
  totals?: EntityTotals[];
  /**
   * Set while an operator has stopped the run (BackfillLedger.stop): its workers give their segments back after the
   * page under way and no new claim is made until it is resumed. The run stays open.
   */
  stopped?: RunStop;
}

/** Who stopped a run, and when (ISO-8601). */
export interface RunStop {
  who: string;
  at: string;
}

export function runItem(run: RunRecord): ControlItem {
  const item: ControlItem = {
    ...runKey(run.id),
    id: { S: run.id },
    contract: { S: run.contract },
    entities: { L: run.entities.map((entity) => ({ S: entity })) },
    who: { S: run.who },
    state: { S: run.state },
    startedAt: { S: run.startedAt },
    options: { S: JSON.stringify(run.options) },
    segments: { N: String(run.segments) },
  };
  if (run.dualWriteSince !== undefined) item.dualWriteSince = { N: String(run.dualWriteSince) };
  return item;
}

export function runFromItem(item: ControlItem): RunRecord {
  const run: RunRecord = {
    id: text(item.id),
    contract: text(item.contract),
    entities: (item.entities?.L ?? []).map(text),
    who: text(item.who),
    state: (["running", "finished", "failed"] as const).find((state) => state === item.state?.S) ?? "failed",
    startedAt: text(item.startedAt),
    options: JSON.parse(item.options?.S ?? "{}") as Record<string, unknown>,
    segments: number(item.segments),
  };
  if (item.finishedAt?.S !== undefined) run.finishedAt = item.finishedAt.S;
  if (item.failure?.S !== undefined) run.failure = item.failure.S;
  if (item.dualWriteSince?.N !== undefined) run.dualWriteSince = Number(item.dualWriteSince.N);
  if (item.totals?.S !== undefined) run.totals = JSON.parse(item.totals.S) as EntityTotals[];
  if (item.stoppedBy?.S !== undefined && item.stoppedAt?.S !== undefined) {
    run.stopped = { who: item.stoppedBy.S, at: item.stoppedAt.S };
  }
  return run;
}

export function segmentItem(runId: string, segment: LedgerSegment): ControlItem {
  const item: ControlItem = {
    ...segmentKey(runId, segment.entity, segment.index),
    entity: { S: segment.entity },
    index: { N: String(segment.index) },
    number: { N: String(segment.number) },
    estimatedRows: { N: String(segment.estimatedRows) },
    state: { S: "open" },
    written: { N: "0" },
    skipped: { N: "0" },
    rejected: { N: "0" },
    errors: { N: "0" },
  };
  if (segment.after !== undefined) item.after = { S: encodeKey(segment.after) };
  if (segment.through !== undefined) item.through = { S: encodeKey(segment.through) };
  return item;
}

export function segmentFromItem(item: ControlItem): SegmentRecord {
  const segment: LedgerSegment = {
    entity: text(item.entity),
    index: number(item.index),
    number: number(item.number),
    estimatedRows: number(item.estimatedRows),
    ...(item.after?.S === undefined ? {} : { after: decodeKey(item.after.S) }),
    ...(item.through?.S === undefined ? {} : { through: decodeKey(item.through.S) }),
  };
  const record: SegmentRecord = {
    segment,
    state: item.state?.S === "done" ? "done" : "open",
    counts: {
      written: number(item.written),
      skipped: number(item.skipped),
      rejected: number(item.rejected),
      errors: number(item.errors),
    },
  };
  if (item.checkpoint?.S !== undefined) record.checkpoint = decodeKey(item.checkpoint.S);
  if (item.leaseToken?.S !== undefined) {
    record.lease = { owner: text(item.leaseOwner), token: item.leaseToken.S, expires: number(item.leaseExpires) };
  }
  if (item.claimedAt?.S !== undefined) record.claimedAt = item.claimedAt.S;
  if (item.lastError?.S !== undefined) record.lastError = item.lastError.S;
  if (item.doneAt?.S !== undefined) record.doneAt = item.doneAt.S;
  return record;
}

/** Per-entity counts of a run's segments, in the run's entity order; `now` tells live leases from expired ones. */
export function totalsOf(run: RunRecord, segments: readonly SegmentRecord[], now: number): EntityTotals[] {
  const byEntity = new Map<string, EntityTotals>();
  for (const entity of run.entities) {
    byEntity.set(entity, { entity, segments: 0, segmentsDone: 0, segmentsLeased: 0, rowsEstimated: 0, ...NO_COUNTS });
  }
  for (const record of segments) {
    const totals = byEntity.get(record.segment.entity);
    if (totals === undefined) continue;
    totals.segments += 1;
    if (record.state === "done") totals.segmentsDone += 1;
    else if (record.lease !== undefined && record.lease.expires > now) totals.segmentsLeased += 1;
    totals.rowsEstimated += record.segment.estimatedRows;
    totals.written += record.counts.written;
    totals.skipped += record.counts.skipped;
    totals.rejected += record.counts.rejected;
    totals.errors += record.counts.errors;
  }
  return [...byEntity.values()];
}

function text(value: AttributeValue | undefined): string {
  return value?.S ?? "";
}

function number(value: AttributeValue | undefined): number {
  return Number(value?.N ?? "0");
}

/** Every item of a run's partition whose sort key starts with `prefix` (strongly consistent, page after page). */
export async function readPartition(
  client: DynamoDBClient,
  table: string,
  runId: string,
  prefix: string,
): Promise<ControlItem[]> {
  const items: ControlItem[] = [];
  let start: ControlItem | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition, "#sk": CONTROL_KEY.sort },
        ExpressionAttributeValues: { ":pk": { S: runPartition(runId) }, ":prefix": { S: prefix } },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** The sort key prefix of a run's per-minute counts (MINUTE#2025-01-02T03:04Z): what its chart shows. */
export const MINUTE_PREFIX = "MINUTE#";

/** The item of a run's counts in the minute (UTC) `at` falls in. */
export function minuteKey(runId: string, at: number): ControlItem {
  return controlKey({ pk: runPartition(runId), sk: `${MINUTE_PREFIX}${new Date(at).toISOString().slice(0, 16)}Z` });
}

/** The rows a run's workers wrote and skipped in one minute. */
export interface RunMinute {
  /** `2025-01-02T03:04Z`. */
  minute: string;
  written: number;
  skipped: number;
}

/** A run's per-minute counts, oldest first (minutes with nothing checkpointed are absent). */
export async function readRunMinutes(client: DynamoDBClient, table: string, runId: string): Promise<RunMinute[]> {
  return (await readPartition(client, table, runId, MINUTE_PREFIX)).map((item) => ({
    minute: text(item[CONTROL_KEY.sort]).slice(MINUTE_PREFIX.length),
    written: Number(item.written?.N ?? 0),
    skipped: Number(item.skipped?.N ?? 0),
  }));
}

/** A run's segments, in sort key order (entity name, then index). */
export async function readSegments(client: DynamoDBClient, table: string, runId: string): Promise<SegmentRecord[]> {
  return (await readPartition(client, table, runId, SEGMENT_PREFIX)).map(segmentFromItem);
}
