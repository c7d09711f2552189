/**
 * The last validation's result, kept in the control table (`VALIDATION` / `LATEST`): `clean` (BOOL), `at` (S,
 * ISO-8601), `mismatches` (N), `dualWriteSince` (N: the phase item's `dualWriteSince` when it was recorded), `reportId` (S:
 * the validation report it sums up, in the control table's `VALIDATION#REPORT` partition). The 3 -> 4
 * guard rail needs `clean = true` and the `dualWriteSince` of the phase item now: a validation made before dual
 * writes last stopped and started again says nothing about the stores now.
 */
import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { currentRunOfDualWrites } from "./backfill-status.ts";
import { PhaseControlError } from "./phase-errors.ts";
import { CONTROL_KEY, type ControlKey, controlKey, ensureControlTable, getControlItem } from "./table.ts";

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

/** What recordValidation did: the result recorded, or (not recorded) the newer one that stands. */
export type RecordedValidation =
  | { recorded: true; result: ValidationResult }
  | { recorded: false; result: ValidationResult; standing: ValidationResult | undefined };

/**
 * Records a validation's result (when a validation is done); `at` defaults to now, `dualWriteSince` to the phase
 * item's now (give the one read when the validation started).
 *
 * With `at` given (the validation's start, as a validation gives it), the record is conditional: it is written only
 * when no result is recorded or the one recorded is of a validation that started at or before this one. A validation
 * that started later looked at the stores later: its result stands, clean or not (an older clean full validation must
 * not hide a difference a newer one found). Otherwise `recorded: false` and the standing result.
 */
export async function recordValidation(
  client: DynamoDBClient,
  tablePrefix: string,
  result: { clean: boolean; mismatches: number; at?: string; dualWriteSince?: number; reportId?: string },
): Promise<RecordedValidation> {
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
  const table = await ensureControlTable(client, tablePrefix);
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...controlKey(VALIDATION_KEY),
          clean: { BOOL: recorded.clean },
          at: { S: recorded.at },
          mismatches: { N: String(recorded.mismatches) },
          ...(since === undefined ? {} : { dualWriteSince: { N: String(since) } }),
          ...(result.reportId === undefined ? {} : { reportId: { S: result.reportId } }),
        },
        ...(result.at === undefined
          ? {}
          : {
              ConditionExpression: "attribute_not_exists(#pk) OR #at <= :at",
              ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition, "#at": "at" },
              ExpressionAttributeValues: { ":at": { S: recorded.at } },
            }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return { recorded: false, result: recorded, standing: await readValidation(client, tablePrefix) };
  }
  return { recorded: true, result: recorded };
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
