/**
 * The last validation's result, kept in the control table (`VALIDATION` / `LATEST`): `clean` (BOOL), `at` (S,
 * ISO-8601), `mismatches` (N), `dualWriteSince` (N: the phase item's `dualWriteSince` when it was recorded), `reportId` (S:
 * the validation report it sums up, in the control table's `VALIDATION#REPORT` partition). The 3 -> 4
 * guard rail needs `clean = true` and the `dualWriteSince` of the phase item now: a validation made before dual
 * writes last stopped and started again says nothing about the stores now.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { currentRunOfDualWrites } from "./backfill-status.ts";
import { PhaseControlError } from "./phase-errors.ts";
import { type ControlKey, controlKey, getControlItem, putControlItem } from "./table.ts";

export const VALIDATION_KEY: ControlKey = { pk: "VALIDATION", sk: "LATEST" };

/** The last validation's result, as recorded under VALIDATION_KEY. */
export interface ValidationResult {
  clean: boolean;
  /** ISO-8601: when the validation ran. */
  at: string;
  mismatches: number;
  /** The run of dual writes it was made in (PhaseState.dualWriteSince); absent: dual writes were off. */
  dualWriteSince?: number;
  /** The report it sums up (validation/report.ts), when one was kept. */
  reportId?: string;
}

/**
 * Records a validation's result (when a validation is done); `at` defaults to now, `dualWriteSince` to the phase
 * item's now (give the one read when the validation started).
 */
export async function recordValidation(
  client: DynamoDBClient,
  tablePrefix: string,
  result: { clean: boolean; mismatches: number; at?: string; dualWriteSince?: number; reportId?: string },
): Promise<ValidationResult> {
  if (!Number.isSafeInteger(result.mismatches) || result.mismatches < 0) {
    throw new PhaseControlError(`a validation's mismatches are a whole number, got ${result.mismatches}`);
  }
  const recorded: ValidationResult = {
    clean: result.clean,
    at: result.at ?? new Date().toISOString(),
    mismatches: result.mismatches,
  };
  const since = result.dualWriteSince ?? (await currentRunOfDualWrites(client, tablePrefix));
  if (since !== undefined) recorded.dualWriteSince = since;
  if (result.reportId !== undefined) recorded.reportId = result.reportId;
  await putControlItem(client, tablePrefix, {
    ...controlKey(VALIDATION_KEY),
    clean: { BOOL: recorded.clean },
    at: { S: recorded.at },
    mismatches: { N: String(recorded.mismatches) },
    ...(since === undefined ? {} : { dualWriteSince: { N: String(since) } }),
    ...(result.reportId === undefined ? {} : { reportId: { S: result.reportId } }),
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
  const result: ValidationResult = {
    clean: item.clean?.BOOL === true,
    at: item.at?.S ?? "",
    mismatches: Number(item.mismatches?.N ?? 0),
  };
  if (item.dualWriteSince?.N !== undefined) result.dualWriteSince = Number(item.dualWriteSince.N);
  if (item.reportId?.S !== undefined) result.reportId = item.reportId.S;
  return result;
}
