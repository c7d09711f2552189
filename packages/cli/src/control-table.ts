/**
 * The connection of the commands that use ferry's control table only (`ferry phase`, `ferry admin`): its options, and
 * the DynamoDB client and table prefix they name (flags, then the environment, then the local stack).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { resolveConnections } from "@ferry/stack";
import type { Command } from "commander";
import { dynamoDbClientFor } from "./dynamodb-client.ts";

/** resolveConnections insists on a MySQL URL, which these commands never use. */
const MYSQL_NOT_USED = "mysql://not-used-by-ferry-control-table-commands";

export interface ControlTableOptions {
  prefix?: string;
  dynamodbEndpoint?: string;
}

/** Adds --prefix and --dynamodb-endpoint. */
export function withControlTableOptions(command: Command): Command {
  return command
    .option("--prefix <prefix>", 'the table prefix of the control table (default: FERRY_TABLE_PREFIX, else "")')
    .option(
      "--dynamodb-endpoint <url>",
      "DynamoDB to talk to (default: DYNAMODB_ENDPOINT, else the local stack's, else AWS itself)",
    );
}

/** The client (the caller destroys it) and the table prefix the options and the environment name. */
export function controlTableConnection(options: ControlTableOptions): { client: DynamoDBClient; tablePrefix: string } {
  const { dynamodbEndpoint, region, tablePrefix } = resolveConnections({
    mysqlUrl: MYSQL_NOT_USED,
    dynamodbEndpoint: options.dynamodbEndpoint,
  });
  return { client: dynamoDbClientFor(dynamodbEndpoint, region), tablePrefix: options.prefix ?? tablePrefix };
}
