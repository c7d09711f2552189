/**
 * The connections of the commands that work on the app's two stores (`outbox`, `backfill`, `validate`): the same four
 * options, resolved the same way (flags, then the environment, then what `ferry stack up` wrote).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parseMysqlUrl, resolveConnections, withDatabase } from "@ferry/stack";
import type { Command } from "commander";
import { dynamoDbClientFor } from "./dynamodb-client.ts";

export interface StoreConnectionOptions {
  mysqlUrl?: string;
  database?: string;
  prefix?: string;
  dynamodbEndpoint?: string;
}

/** Adds --mysql-url, --database, --prefix and --dynamodb-endpoint to `command`. */
export function withStoreConnections(command: Command): Command {
  return command
    .option("--mysql-url <url>", "the app's MySQL (default: MYSQL_URL, else the local stack's)")
    .option("--database <db>", "the app's database there (default: the URL's, else `store`)")
    .option("--prefix <prefix>", 'the table prefix (default: FERRY_TABLE_PREFIX, else "")')
    .option(
      "--dynamodb-endpoint <url>",
      "DynamoDB to talk to (default: DYNAMODB_ENDPOINT, else the local stack's, else AWS itself)",
    );
}

/** The app's MySQL URL (with its database), the table prefix, and a DynamoDB client (destroy it after). */
export function storeConnections(options: StoreConnectionOptions): {
  mysqlUrl: string;
  tablePrefix: string;
  client: DynamoDBClient;
} {
  const connections = resolveConnections({ mysqlUrl: options.mysqlUrl, dynamodbEndpoint: options.dynamodbEndpoint });
  const database = options.database ?? parseMysqlUrl(connections.mysqlUrl).database ?? "store";
  return {
    mysqlUrl: withDatabase(connections.mysqlUrl, database),
    tablePrefix: options.prefix ?? connections.tablePrefix,
    client: dynamoDbClientFor(connections.dynamodbEndpoint, connections.region),
  };
}
