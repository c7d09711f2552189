/**
 * Secrets every process of a fleet must share and that must outlive them (the admin console's session signing key):
 * made once, at random, by whichever process asks first, and kept in the control table (pk `SECRET`, sk the
 * purpose). Anyone who can read the control table can read them; they guard nothing that access does not already give.
 */
import { randomBytes } from "node:crypto";
import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CONTROL_KEY, controlKey, ensureControlTable, getControlItem } from "./table.ts";

export const SECRET_PARTITION = "SECRET";

/** The secret kept for `purpose` (32 random bytes, base64url), made now when there is none yet. */
export async function sharedSecret(client: DynamoDBClient, tablePrefix: string, purpose: string): Promise<string> {
  const key = { pk: SECRET_PARTITION, sk: purpose };
  const kept = (await getControlItem(client, tablePrefix, key))?.secret?.S;
  if (kept !== undefined) return kept;
  const made = randomBytes(32).toString("base64url");
  try {
    await client.send(
      new PutItemCommand({
        TableName: await ensureControlTable(client, tablePrefix),
        Item: { ...controlKey(key), secret: { S: made }, createdAt: { S: new Date().toISOString() } },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
      }),
    );
    return made;
  } catch (error) {
    // Another process made it first: theirs is the one.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const theirs = (await getControlItem(client, tablePrefix, key))?.secret?.S;
    if (theirs === undefined) throw new Error(`the shared secret for ${purpose} could not be read back`);
    return theirs;
  }
}
