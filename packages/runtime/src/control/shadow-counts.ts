/**
 * The shadow readers' counters, kept in the control table (`SHADOW` / `COUNTERS`): `comparisons` (N) and `mismatches`
 * (N), incremented atomically with ADD, and `since` (S, ISO-8601). Entering phase 3 starts them afresh (in the same
 * transaction as the change), so 3 -> 4 judges the comparisons of the current phase-3 period only.
 */
import { type DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { PhaseControlError } from "./phase-errors.ts";
import { type ControlItem, type ControlKey, controlKey, ensureControlTable, getControlItem } from "./table.ts";

export const SHADOW_COUNTERS_KEY: ControlKey = { pk: "SHADOW", sk: "COUNTERS" };

/** The shadow readers' counters, as recorded under SHADOW_COUNTERS_KEY. */
export interface ShadowCounts {
  comparisons: number;
  mismatches: number;
  /** ISO-8601: when the counters were last started afresh (absent when they never were). */
  since?: string;
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

/** The counters started afresh at `at`: the item a phase change into phase 3 writes in its transaction. */
export function freshShadowCounts(at: string): ControlItem {
  return { ...controlKey(SHADOW_COUNTERS_KEY), comparisons: { N: "0" }, mismatches: { N: "0" }, since: { S: at } };
}
