/**
 * The last backfill's state, kept in the control table (`BACKFILL` / `LATEST`): `state` (S: "running" | "finished" |
 * "failed"), `finishedAt` (S, ISO-8601; once it has finished or failed), `at` (S, ISO-8601: when it was recorded).
 * The 2 -> 3 guard rail needs `state = "finished"`.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PhaseControlError } from "./phase-errors.ts";
import { type ControlItem, type ControlKey, controlKey, getControlItem, putControlItem } from "./table.ts";

export const BACKFILL_STATUS_KEY: ControlKey = { pk: "BACKFILL", sk: "LATEST" };

/** The last backfill's state, as recorded under BACKFILL_STATUS_KEY. */
export interface BackfillStatus {
  state: "running" | "finished" | "failed";
  /** ISO-8601, once it has finished or failed. */
  finishedAt?: string;
  /** ISO-8601: when this status was recorded. */
  at: string;
}

const STATES: ReadonlyArray<BackfillStatus["state"]> = ["running", "finished", "failed"];

/** Records the backfill's state (when a backfill starts, finishes or fails). */
export async function recordBackfillStatus(
  client: DynamoDBClient,
  tablePrefix: string,
  status: { state: BackfillStatus["state"]; finishedAt?: string },
): Promise<BackfillStatus> {
  if (!STATES.includes(status.state)) {
    throw new PhaseControlError(`a backfill state is running, finished or failed, got '${String(status.state)}'`);
  }
  const at = new Date().toISOString();
  const recorded: BackfillStatus = { state: status.state, at };
  const finishedAt = status.finishedAt ?? (status.state === "running" ? undefined : at);
  if (finishedAt !== undefined) recorded.finishedAt = finishedAt;
  const item: ControlItem = { ...controlKey(BACKFILL_STATUS_KEY), state: { S: recorded.state }, at: { S: at } };
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
  const state = STATES.find((known) => known === item.state?.S) ?? "failed";
  const status: BackfillStatus = { state, at: item.at?.S ?? "" };
  if (item.finishedAt?.S !== undefined) status.finishedAt = item.finishedAt.S;
  return status;
}
