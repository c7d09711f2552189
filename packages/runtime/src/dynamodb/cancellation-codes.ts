/** What DynamoDB says of a cancelled TransactWriteItems: a code per write (the entity store and the phase store read it). */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";

/** The cancellation code of each write of a cancelled transaction; undefined when the error is not a cancellation. */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  if (error.CancellationReasons) return error.CancellationReasons.map((reason) => reason.Code ?? "None");
  const listed = /\[([^\]]*)\]/.exec(error.message)?.[1];
  return listed === undefined ? [] : listed.split(",").map((code) => code.trim());
}
