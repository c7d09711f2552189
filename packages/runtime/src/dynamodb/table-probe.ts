/**
 * Whether a DynamoDB table is there, asked without DescribeTable.
 *
 * DynamoDB Local answers a DescribeTable by summing the size of every item of the table, and again of every item of
 * each of its indexes, on the one thread that serves every call of every client: measured on this project's machine
 * kind with the store's data (about 400,000 items in one table), 4 s of no answer to anyone per DescribeTable, which
 * the store's requests and the fleet's heartbeats queue behind. A GetItem of a key no item has costs a lookup on
 * DynamoDB Local and on DynamoDB alike, and says the same thing: ResourceNotFoundException when the table is not
 * there (or not yet ACTIVE, which DynamoDB tells the same way for data calls).
 */
import { type DynamoDBClient, GetItemCommand, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";

/** The key text read: should an item have it (a key template that is a bare value), it is only read, never changed. */
const PROBE_KEY = "~ferry probe~";

export interface TableKeyNames {
  partition: string;
  sort?: string | undefined;
}

/** True when the table answers a read, false when DynamoDB says it is not there; any other error is thrown. */
export async function tableExists(client: DynamoDBClient, table: string, keyNames: TableKeyNames): Promise<boolean> {
  try {
    await probeTable(client, table, keyNames);
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    if ((error as { name?: unknown }).name === "ResourceNotFoundException") return false;
    throw error;
  }
}

/** One GetItem of a key no item has (keys of ferry's tables are strings); throws what DynamoDB answers. */
export async function probeTable(
  client: DynamoDBClient,
  table: string,
  keyNames: TableKeyNames,
  options?: { abortSignal?: AbortSignal },
): Promise<void> {
  const key = { [keyNames.partition]: { S: PROBE_KEY } };
  if (keyNames.sort !== undefined) key[keyNames.sort] = { S: PROBE_KEY };
  await client.send(
    new GetItemCommand({
      TableName: table,
      Key: key,
      ProjectionExpression: "#k",
      ExpressionAttributeNames: { "#k": keyNames.partition },
    }),
    options,
  );
}
