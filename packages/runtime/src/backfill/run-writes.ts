/**
 * The writes that open and close a backfill run (ledger.ts has the item layout), and the checks on a run's plan: a
 * run opens with its item, the open-run pointer (on condition that there is none) and the backfill status "running"
 * in one transaction, and closes with its state, the pointer's removal and the backfill status in another.
 */
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  type TransactWriteItem,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { backfillStatusItem } from "../control/backfill-status.ts";
import { CONTROL_KEY, controlKey } from "../control/table.ts";
import { BackfillError, BackfillRunClosed, BackfillRunOpen } from "./errors.ts";
import {
  type EntityTotals,
  type LedgerSegment,
  OPEN_RUN_KEY,
  type RunRecord,
  runItem,
  runKey,
} from "./ledger-items.ts";
import type { PlannedSegment } from "./segments.ts";

/** The transaction that opens `run`: cancelled (ConditionalCheckFailed on the pointer) when another run is open. */
export function openRunWrites(table: string, run: RunRecord): TransactWriteItem[] {
  const since = run.dualWriteSince === undefined ? {} : { dualWriteSince: run.dualWriteSince };
  const pointer = {
    ...controlKey(OPEN_RUN_KEY),
    runId: { S: run.id },
    contract: { S: run.contract },
    entities: { L: run.entities.map((entity) => ({ S: entity })) },
  };
  return [
    { Put: { TableName: table, Item: runItem(run), ...absent() } },
    { Put: { TableName: table, Item: pointer, ...absent() } },
    { Put: { TableName: table, Item: backfillStatusItem({ state: "running", at: run.startedAt, ...since }) } },
  ];
}

/** The transaction that ends `run` (on condition that it is running) with its per-entity counts. */
export function closeRunWrites(
  table: string,
  run: RunRecord,
  end: { state: "finished" | "failed"; at: string; totals: readonly EntityTotals[]; failure?: string | undefined },
): TransactWriteItem[] {
  const failure = end.failure;
  const since = run.dualWriteSince === undefined ? {} : { dualWriteSince: run.dualWriteSince };
  const totals = end.totals.map((entity) => ({ ...entity, segmentsLeased: 0 }));
  return [
    {
      Update: {
        TableName: table,
        Key: runKey(run.id),
        UpdateExpression: `SET #state = :state, #finishedAt = :at, #totals = :totals${failure === undefined ? "" : ", #failure = :failure"}`,
        ConditionExpression: "#state = :running",
        ExpressionAttributeNames: {
          "#state": "state",
          "#finishedAt": "finishedAt",
          "#totals": "totals",
          ...(failure === undefined ? {} : { "#failure": "failure" }),
        },
        ExpressionAttributeValues: {
          ":state": { S: end.state },
          ":at": { S: end.at },
          ":totals": { S: JSON.stringify(totals) },
          ":running": { S: "running" },
          ...(failure === undefined ? {} : { ":failure": { S: failure } }),
        },
      },
    },
    {
      Delete: {
        TableName: table,
        Key: controlKey(OPEN_RUN_KEY),
        ConditionExpression: "attribute_not_exists(#pk) OR #runId = :id",
        ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition, "#runId": "runId" },
        ExpressionAttributeValues: { ":id": { S: run.id } },
      },
    },
    {
      Put: {
        TableName: table,
        Item: backfillStatusItem({ state: end.state, at: end.at, finishedAt: end.at, ...since }),
      },
    },
  ];
}

/** BatchWriteItem in batches of 25, unprocessed requests sent again (backing off). */
export async function batchWrite(client: DynamoDBClient, table: string, requests: WriteRequest[]): Promise<void> {
  for (let start = 0; start < requests.length; start += 25) {
    let pending: WriteRequest[] = requests.slice(start, start + 25);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000)));
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

/** Why nothing more is done in a failed run. */
export function failedRun(run: RunRecord): BackfillRunClosed {
  return new BackfillRunClosed(
    `backfill run ${run.id} failed (at ${run.finishedAt ?? "an unknown time"}: ${run.failure ?? "no reason recorded"}); nothing more is done in it`,
    { hint: "start a new run (ferry backfill run)" },
  );
}

/** The open run for a worker that wanted to create one: joined when it is of the same contract and entities. */
export function joined(
  open: RunRecord,
  wanted: { contract: string; entities: readonly string[] },
): { id: string; joined: true } {
  const same =
    open.contract === wanted.contract &&
    open.entities.length === wanted.entities.length &&
    open.entities.every((entity) => wanted.entities.includes(entity));
  if (same) return { id: open.id, joined: true };
  throw new BackfillRunOpen(
    `backfill run ${open.id} (contract ${open.contract}, entities ${open.entities.join(", ")}, started by ${open.who} at ${open.startedAt}) is still open, and one run is open at a time`,
    {
      hint: `run the backfill of contract ${open.contract} with --entities ${open.entities.join(",")} to finish it, or mark it failed`,
    },
  );
}

/** The segments numbered across the run, in entity order, each entity's indexes checked to be 0, 1, ... */
export function numbered(entities: readonly string[], planned: readonly PlannedSegment[]): LedgerSegment[] {
  const segments: LedgerSegment[] = [];
  for (const entity of entities) {
    const own = planned.filter((segment) => segment.entity === entity).sort((a, b) => a.index - b.index);
    if (own.length === 0) throw new BackfillError(`${entity} has no segments (an empty table has one)`);
    own.forEach((segment, index) => {
      if (segment.index !== index) {
        throw new BackfillError(`${entity}'s segments are numbered 0 to ${own.length - 1}, found ${segment.index}`);
      }
      segments.push({ ...segment, number: segments.length });
    });
  }
  const stray = planned.find((segment) => !entities.includes(segment.entity));
  if (stray !== undefined) {
    throw new BackfillError(`a segment of ${stray.entity}, which is not among the run's entities`);
  }
  return segments;
}

function absent() {
  return {
    ConditionExpression: "attribute_not_exists(#pk)",
    ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
  };
}
