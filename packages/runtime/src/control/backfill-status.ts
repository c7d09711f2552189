/**
 * The last backfill's state, kept in the control table (`BACKFILL` / `LATEST`): `state` (S: "running" | "finished" |
 * "failed"), `finishedAt` (S, ISO-8601; once it has finished or failed), `at` (S, ISO-8601: when it was recorded),
 * `dualWriteSince` (N: the phase item's `dualWriteSince` when the backfill started; absent when dual writes were off).
 * The 2 -> 3 guard rail needs `state = "finished"` and the `dualWriteSince` of the phase item now: a backfill made
 * before dual writes last stopped and started again (2 -> 1 -> 2) does not count.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PhaseControlError } from "./phase-errors.ts";
import { PHASE_ITEM_KEY, stateFromItem } from "./phase-item.ts";
import { type ControlItem, type ControlKey, controlKey, getControlItem, putControlItem } from "./table.ts";

export const BACKFILL_STATUS_KEY: ControlKey = { pk: "BACKFILL", sk: "LATEST" };

/** The last backfill's state, as recorded under BACKFILL_STATUS_KEY. */
export interface BackfillStatus {
  state: "running" | "finished" | "failed";
  /** ISO-8601, once it has finished or failed. */
  finishedAt?: string;
  /** ISO-8601: when this status was recorded. */
  at: string;
  /** The run of dual writes it was made in (PhaseState.dualWriteSince when it started); absent: dual writes were off. */
  dualWriteSince?: number;
}

const STATES: ReadonlyArray<BackfillStatus["state"]> = ["running", "finished", "failed"];

/**
 * Records the backfill's state (when a backfill starts, finishes or fails). `dualWriteSince` is the run of dual writes
 * the backfill was made in: by default the one of the "running" record it ends when there is one (the backfill started
 * in it), else the phase item's now.
 */
export async function recordBackfillStatus(
  client: DynamoDBClient,
  tablePrefix: string,
  status: { state: BackfillStatus["state"]; finishedAt?: string; dualWriteSince?: number },
): Promise<BackfillStatus> {
  if (!STATES.includes(status.state)) {
    throw new PhaseControlError(`a backfill state is running, finished or failed, got '${String(status.state)}'`);
  }
  const since = status.dualWriteSince ?? (await runOfDualWrites(client, tablePrefix, status.state));
  const at = new Date().toISOString();
  const recorded: BackfillStatus = { state: status.state, at };
  const finishedAt = status.finishedAt ?? (status.state === "running" ? undefined : at);
  if (finishedAt !== undefined) recorded.finishedAt = finishedAt;
  if (since !== undefined) recorded.dualWriteSince = since;
  await putControlItem(client, tablePrefix, backfillStatusItem(recorded));
  return recorded;
}

/** The item of a backfill status (for writing it inside a transaction of one's own, as BackfillLedger.finish does). */
export function backfillStatusItem(status: BackfillStatus): ControlItem {
  const item: ControlItem = { ...controlKey(BACKFILL_STATUS_KEY), state: { S: status.state }, at: { S: status.at } };
  if (status.finishedAt !== undefined) item.finishedAt = { S: status.finishedAt };
  if (status.dualWriteSince !== undefined) item.dualWriteSince = { N: String(status.dualWriteSince) };
  return item;
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
  if (item.dualWriteSince?.N !== undefined) status.dualWriteSince = Number(item.dualWriteSince.N);
  return status;
}

/** The run of dual writes a backfill recorded now belongs to: the running one's it ends, else the phase item's. */
async function runOfDualWrites(
  client: DynamoDBClient,
  tablePrefix: string,
  state: BackfillStatus["state"],
): Promise<number | undefined> {
  if (state !== "running") {
    const last = await readBackfillStatus(client, tablePrefix);
    if (last?.state === "running") return last.dualWriteSince;
  }
  return currentRunOfDualWrites(client, tablePrefix);
}

/** The phase item's dualWriteSince now; undefined in phase 1 (or before anything was stored). */
export async function currentRunOfDualWrites(client: DynamoDBClient, tablePrefix: string): Promise<number | undefined> {
  const item = await getControlItem(client, tablePrefix, PHASE_ITEM_KEY);
  return item === undefined ? undefined : stateFromItem(item).dualWriteSince;
}
