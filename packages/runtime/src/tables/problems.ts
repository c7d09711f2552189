/** DynamoDB failures turned into errors a person can act on: a message, a hint, the cause. */
import { type DynamoDBClient, DynamoDBServiceException } from "@aws-sdk/client-dynamodb";
import { ErrorWithHint } from "../errors.ts";

/** A DynamoDB request that failed or a table that is not as expected, told for a person (the CLI shows the hint). */
export class DynamoDbProblem extends ErrorWithHint {
  override readonly name = "DynamoDbProblem";
}

const REACH_HINT =
  "start the local stack with `pnpm ferry stack up`, or point ferry at DynamoDB with --dynamodb-endpoint URL or DYNAMODB_ENDPOINT (unset means AWS itself)";

/** Where a client sends its requests, for messages: "DynamoDB at http://127.0.0.1:8000" or "DynamoDB (AWS, eu-west-1)". */
export async function dynamoDbLocation(client: DynamoDBClient): Promise<string> {
  try {
    const region = await client.config.region();
    if (client.config.isCustomEndpoint && client.config.endpoint) {
      const endpoint = await client.config.endpoint();
      const port = endpoint.port === undefined ? "" : `:${endpoint.port}`;
      const path = endpoint.path === "/" ? "" : endpoint.path;
      return `DynamoDB at ${endpoint.protocol}//${endpoint.hostname}${port}${path}`;
    }
    return `DynamoDB (AWS, ${region})`;
  } catch {
    return "DynamoDB";
  }
}

/**
 * The error to show for a failed request: DynamoDB's own refusals keep its message; anything else means it
 * could not be reached (or there are no AWS credentials), with a hint on how to point ferry at it.
 */
export function dynamoDbProblem(error: unknown, location: string, doing: string): ErrorWithHint {
  // Errors already told for a person (a refused phase change, a table that is not as expected) stay as they are.
  if (error instanceof ErrorWithHint) return error;
  if (error instanceof DynamoDBServiceException) {
    return new DynamoDbProblem(`${location} refused to ${doing}: ${error.name}: ${error.message}`, { cause: error });
  }
  const name = error instanceof Error ? error.name : "";
  if (name === "CredentialsProviderError") {
    return new DynamoDbProblem(`no AWS credentials to ${doing} on ${location}`, {
      hint: `set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION, or ${REACH_HINT}`,
      cause: error,
    });
  }
  const why = name === "TimeoutError" || name === "AbortError" ? "no answer in time" : reason(error);
  return new DynamoDbProblem(`cannot reach ${location} to ${doing} (${why})`, { hint: REACH_HINT, cause: error });
}

export function isServiceError(error: unknown, name: string): boolean {
  return error instanceof DynamoDBServiceException && error.name === name;
}

/** The message of anything thrown; a failed connection to several addresses says each one's (as the local stack's
 * describeError does; the runtime does not depend on the stack). */
function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(reason).join("; ");
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
