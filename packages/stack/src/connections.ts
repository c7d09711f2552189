import { StackError } from "./errors.ts";
import { ferryHome } from "./paths.ts";
import { readState } from "./state.ts";

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
  const mysqlUrl = flags.mysqlUrl || process.env.MYSQL_URL || state.mysql?.url || undefined;
  if (!mysqlUrl) {
    throw new StackError("no MySQL to connect to", {
      hint: "run `pnpm ferry stack up` first, or set MYSQL_URL=mysql://user:password@host:port/database",
    });
  }
  return {
    mysqlUrl,
    dynamodbEndpoint: flags.dynamodbEndpoint || process.env.DYNAMODB_ENDPOINT || state.dynamodb?.url || undefined,
    region: process.env.AWS_REGION || "us-east-1",
    tablePrefix: process.env.FERRY_TABLE_PREFIX ?? "",
  };
}
