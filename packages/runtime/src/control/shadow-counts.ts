/**
 * The shadow readers' counters, kept in the control table (`SHADOW` / `COUNTERS`): `comparisons` (N), `mismatches`
 * (N), `errors` (N: shadow reads that failed) and `timeouts` (N: no result within the budget), incremented
 * atomically with ADD, and `since` (S, ISO-8601). Entering phase 3 starts them afresh (in the same transaction as the
 * change), so 3 -> 4 judges the comparisons of the current phase-3 period only.
 *
 * For the console's chart, the same counts are also added to one item per minute (`SHADOW#MINUTES` / the minute,
 * `2025-01-02T03:04Z`), kept for SHADOW_MINUTES_TTL_SECONDS; those are for display only (a failed write there is not
 * tried again).
 */
import { type DynamoDBClient, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { PhaseControlError } from "./phase-errors.ts";
import {
  CONTROL_KEY,
  CONTROL_TTL_ATTRIBUTE,
  type ControlItem,
  type ControlKey,
  controlKey,
  ensureControlTable,
  getControlItem,
} from "./table.ts";

/** The partition of the per-minute counts. */
export const SHADOW_MINUTES_PARTITION = "SHADOW#MINUTES";
/** How long a minute's counts are kept: 7 days. */
export const SHADOW_MINUTES_TTL_SECONDS = 7 * 24 * 3600;

export const SHADOW_COUNTERS_KEY: ControlKey = { pk: "SHADOW", sk: "COUNTERS" };

/** The shadow readers' counters, as recorded under SHADOW_COUNTERS_KEY. */
export interface ShadowCounts {
  comparisons: number;
  mismatches: number;
  /** Shadow reads that failed, or whose result could not be compared. */
  errors: number;
  /** Shadow reads with no result within their budget. */
  timeouts: number;
  /** ISO-8601: when the counters were last started afresh (absent when they never were). */
  since?: string;
}

/** What one flush of a shadow reader adds: errors and timeouts may be left out (0). */
export type ShadowCountsAdded = Pick<ShadowCounts, "comparisons" | "mismatches"> &
  Partial<Pick<ShadowCounts, "errors" | "timeouts">>;

function addition(counts: ShadowCountsAdded): { expression: string; values: Record<string, { N: string }> } {
  const names = ["comparisons", "mismatches", "errors", "timeouts"] as const;
  for (const name of names) {
    const value = counts[name] ?? 0;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new PhaseControlError(`shadow ${name} are added as whole numbers, got ${value}`);
    }
  }
  return {
    expression: `ADD ${names.map((name) => `${name} :${name}`).join(", ")}`,
    values: Object.fromEntries(names.map((name) => [`:${name}`, { N: String(counts[name] ?? 0) }])),
  };
}

/** Adds to the shadow counters, atomically (ADD), as shadow readers do after comparing. */
export async function addShadowCounts(
  client: DynamoDBClient,
  tablePrefix: string,
  counts: ShadowCountsAdded,
): Promise<void> {
  const { expression, values } = addition(counts);
  const table = await ensureControlTable(client, tablePrefix);
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: controlKey(SHADOW_COUNTERS_KEY),
      UpdateExpression: expression,
      ExpressionAttributeValues: values,
    }),
  );
}

/** The minute (UTC) an instant falls in, as the per-minute items' sort key: `2025-01-02T03:04Z`. */
export function shadowMinute(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16)}Z`;
}

/** Adds counts to the minute `at` falls in (for the console's chart; display only). */
export async function addShadowMinute(
  client: DynamoDBClient,
  tablePrefix: string,
  at: number,
  counts: ShadowCountsAdded,
): Promise<void> {
  const { expression, values } = addition(counts);
  const table = await ensureControlTable(client, tablePrefix);
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: controlKey({ pk: SHADOW_MINUTES_PARTITION, sk: shadowMinute(at) }),
      UpdateExpression: `${expression} SET #expires = :expires`,
      ExpressionAttributeNames: { "#expires": CONTROL_TTL_ATTRIBUTE },
      ExpressionAttributeValues: {
        ...values,
        ":expires": { N: String(Math.floor(at / 1000) + SHADOW_MINUTES_TTL_SECONDS) },
      },
    }),
  );
}

/** One minute's counts. */
export interface ShadowMinute extends Omit<ShadowCounts, "since"> {
  /** `2025-01-02T03:04Z`. */
  minute: string;
}

/** The per-minute counts from `from` to `to` (epoch ms, inclusive), oldest first; minutes with nothing counted are absent. */
export async function readShadowMinutes(
  client: DynamoDBClient,
  tablePrefix: string,
  range: { from: number; to: number },
): Promise<ShadowMinute[]> {
  const table = await ensureControlTable(client, tablePrefix);
  const minutes: ShadowMinute[] = [];
  let start: ControlItem | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :to",
        ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition, "#sk": CONTROL_KEY.sort },
        ExpressionAttributeValues: {
          ":pk": { S: SHADOW_MINUTES_PARTITION },
          ":from": { S: shadowMinute(range.from) },
          ":to": { S: shadowMinute(range.to) },
        },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      minutes.push({
        minute: item[CONTROL_KEY.sort]?.S ?? "",
        comparisons: Number(item.comparisons?.N ?? 0),
        mismatches: Number(item.mismatches?.N ?? 0),
        errors: Number(item.errors?.N ?? 0),
        timeouts: Number(item.timeouts?.N ?? 0),
      });
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return minutes;
}

/** The shadow counters (zero when nothing was counted yet). */
export async function readShadowCounts(client: DynamoDBClient, tablePrefix: string): Promise<ShadowCounts> {
  const item = await getControlItem(client, tablePrefix, SHADOW_COUNTERS_KEY);
  const counts: ShadowCounts = {
    comparisons: Number(item?.comparisons?.N ?? 0),
    mismatches: Number(item?.mismatches?.N ?? 0),
    errors: Number(item?.errors?.N ?? 0),
    timeouts: Number(item?.timeouts?.N ?? 0),
  };
  if (item?.since?.S !== undefined) counts.since = item.since.S;
  return counts;
}

/** The counters started afresh at `at`: the item a phase change into phase 3 writes in its transaction. */
export function freshShadowCounts(at: string): ControlItem {
  return {
    ...controlKey(SHADOW_COUNTERS_KEY),
    comparisons: { N: "0" },
    mismatches: { N: "0" },
    errors: { N: "0" },
    timeouts: { N: "0" },
    since: { S: at },
  };
}
