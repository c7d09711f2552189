import { StackError } from "./errors.ts";
import { ferryHome } from "./paths.ts";
import { readState, type StackPart } from "./state.ts";

export interface Connections {
  mysqlUrl: string;
  dynamodbEndpoint: string | undefined;
  region: string;
  tablePrefix: string;
}

/**
 * Where the other commands connect: a flag wins, then the environment (`MYSQL_URL`,
 * `DYNAMODB_ENDPOINT`, `AWS_REGION`, `FERRY_TABLE_PREFIX`), then what `ferry stack up` wrote.
 */
export function resolveConnections(
  flags: { mysqlUrl?: string | undefined; dynamodbEndpoint?: string | undefined; home?: string } = {},
): Connections {
  const state = readState(flags.home ?? ferryHome());
  const mysqlUrl = flags.mysqlUrl || process.env.MYSQL_URL || fromState(state.mysql, "MySQL");
  if (!mysqlUrl) {
    throw new StackError("no MySQL to connect to", {
      hint: "run `pnpm ferry stack up` first, or set MYSQL_URL=mysql://user:password@host:port/database",
    });
  }
  return {
    mysqlUrl,
    // Undefined means AWS itself, so a half-started DynamoDB Local must not come out as undefined.
    dynamodbEndpoint:
      flags.dynamodbEndpoint || process.env.DYNAMODB_ENDPOINT || fromState(state.dynamodb, "DynamoDB Local"),
    region: process.env.AWS_REGION || "us-east-1",
    tablePrefix: process.env.FERRY_TABLE_PREFIX ?? "",
  };
}

/** The URL `ferry stack up` recorded; a part recorded with no URL yet was spawned but never got ready. */
function fromState(part: StackPart | undefined, what: string): string | undefined {
  if (part === undefined) return undefined;
  if (!part.url) {
    throw new StackError(`the local stack is half-started (${what} was started but never answered)`, {
      hint: "run `pnpm ferry stack up`",
    });
  }
  return part.url;
}
