/**
 * The control table: ferry's own DynamoDB table (not the contract's), created on first use. It holds what every
 * process of the fleet must agree on and what must outlive them: the migration phase and its audit log, heartbeats,
 * id counters for phases 4-5, and the like. Items are addressed by a string partition key `pk` and sort key `sk`;
 * each concern owns a `pk` prefix (e.g. `ID#<Entity>` for id counters).
 *
 * It lives in DynamoDB rather than MySQL because MySQL goes away in phase 5 and operators must never be locked out.
 */
import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { encodeToken, readToken } from "../cursor.ts";

/** The control table's name after the table prefix. */
export const CONTROL_TABLE = "ferry_control";

/**
 * The control table's one expiry attribute (epoch seconds, DynamoDB's TTL): every item that should go away on its
 * own carries it (heartbeats of stopped processes, old mismatches).
 */
export const CONTROL_TTL_ATTRIBUTE = "expiresAt";

/** The key attribute names of the control table. */
export const CONTROL_KEY = { partition: "pk", sort: "sk" } as const;

/** A control-table key. */
export interface ControlKey {
  readonly pk: string;
  readonly sk: string;
}

/** An item of the control table. */
export type ControlItem = Record<string, AttributeValue>;

/** The key attributes of a control-table item. */
export function controlKey(key: ControlKey): ControlItem {
  return { [CONTROL_KEY.partition]: { S: key.pk }, [CONTROL_KEY.sort]: { S: key.sk } };
}

/** One item by its key (a strongly consistent read); undefined when there is none. */
export async function getControlItem(
  client: DynamoDBClient,
  tablePrefix: string,
  key: ControlKey,
): Promise<ControlItem | undefined> {
  const table = await ensureControlTable(client, tablePrefix);
  const out = await client.send(new GetItemCommand({ TableName: table, Key: controlKey(key), ConsistentRead: true }));
  return out.Item;
}

/** Writes an item whole (it carries its key). */
export async function putControlItem(client: DynamoDBClient, tablePrefix: string, item: ControlItem): Promise<void> {
  const table = await ensureControlTable(client, tablePrefix);
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
}

/** The physical name of the control table for a table prefix (FERRY_TABLE_PREFIX). */
export function controlTableName(tablePrefix: string): string {
  return `${tablePrefix}${CONTROL_TABLE}`;
}

const ready = new WeakMap<DynamoDBClient, Map<string, Promise<void>>>();

/** How long creating the control table may take before it is reported as stuck. */
const CREATE_TIMEOUT_MS = 120_000;

/**
 * Makes sure the control table exists and is ACTIVE, creating it (on-demand billing) when it does not; returns its
 * name. Safe to call from many processes at once; once it has succeeded for a client, it costs nothing.
 */
export async function ensureControlTable(client: DynamoDBClient, tablePrefix: string): Promise<string> {
  const name = controlTableName(tablePrefix);
  let byName = ready.get(client);
  if (!byName) {
    byName = new Map();
    ready.set(client, byName);
  }
  let pending = byName.get(name);
  if (!pending) {
    pending = createIfMissing(client, name);
    byName.set(name, pending);
    pending.catch(() => byName?.delete(name));
  }
  await pending;
  return name;
}

async function createIfMissing(client: DynamoDBClient, name: string): Promise<void> {
  if ((await status(client, name)) === "ACTIVE") {
    await enableTimeToLive(client, name);
    return;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: CONTROL_KEY.partition, AttributeType: "S" },
          { AttributeName: CONTROL_KEY.sort, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: CONTROL_KEY.partition, KeyType: "HASH" },
          { AttributeName: CONTROL_KEY.sort, KeyType: "RANGE" },
        ],
      }),
    );
  } catch (error) {
    // Another process created it first.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const started = Date.now();
  let pause = 50;
  while ((await status(client, name)) !== "ACTIVE") {
    if (Date.now() - started > CREATE_TIMEOUT_MS) {
      throw new Error(`the control table ${name} did not become ACTIVE within ${CREATE_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 2_000);
  }
  await enableTimeToLive(client, name);
}

/** Turns on expiry by CONTROL_TTL_ATTRIBUTE, once (a table already set up is left as it is). */
async function enableTimeToLive(client: DynamoDBClient, name: string): Promise<void> {
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === "ENABLED" || status === "ENABLING") return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: CONTROL_TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // Another process turned it on first.
    if (!(error instanceof Error && /already enabled|TimeToLive is already/i.test(error.message))) throw error;
  }
}

async function status(client: DynamoDBClient, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: name }));
    return out.Table?.TableStatus;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** A page of a control-table listing; `cursor` is there when more items follow (pass it to get the next page). */
export interface ControlPage {
  items: ControlItem[];
  cursor?: string;
}

/** A control-table listing's cursor that newestFirst did not hand out for this partition. */
export class ControlCursorError extends Error {
  override readonly name = "ControlCursorError";
}

/**
 * One page of a control-table partition, newest (highest sort key) first: up to `limit` items after `cursor`,
 * reading one more than asked for so that a cursor is only handed out when another page has items. `filter` and
 * `filters` (equalities on attributes, all of which must hold) are applied by DynamoDB; `sortRange` bounds the sort
 * key (inclusive); `readAhead` is the least to read per request then (a filter thins pages out). A cursor carries
 * the listing's filters and range: ControlCursorError when it is not one of this partition's with the same ones.
 */
export async function newestFirst(
  client: DynamoDBClient,
  input: {
    table: string;
    partition: string;
    limit: number;
    cursor?: string;
    filter?: { attribute: string; value: AttributeValue };
    filters?: ReadonlyArray<{ attribute: string; value: AttributeValue }>;
    sortRange?: { from?: string; to?: string };
    readAhead?: number;
    /**
     * The most Query requests one call makes (default 20): a filter that matches little in a large partition then
     * answers with fewer items, or none, and a cursor to read on from, instead of reading the whole partition.
     */
    maxReads?: number;
  },
): Promise<ControlPage> {
  const names: Record<string, string> = { "#pk": CONTROL_KEY.partition };
  const values: Record<string, AttributeValue> = { ":pk": { S: input.partition } };
  const filters = [...(input.filter ? [input.filter] : []), ...(input.filters ?? [])];
  const conditions: string[] = [];
  filters.forEach((filter, i) => {
    names[`#filter${i}`] = filter.attribute;
    values[`:filter${i}`] = filter.value;
    conditions.push(`#filter${i} = :filter${i}`);
  });
  let keyCondition = "#pk = :pk";
  const { from, to } = input.sortRange ?? {};
  if (from !== undefined || to !== undefined) {
    names["#sk"] = CONTROL_KEY.sort;
    if (from !== undefined && to !== undefined) {
      values[":from"] = { S: from };
      values[":to"] = { S: to };
      keyCondition += " AND #sk BETWEEN :from AND :to";
    } else if (from !== undefined) {
      values[":from"] = { S: from };
      keyCondition += " AND #sk >= :from";
    } else {
      values[":to"] = { S: to as string };
      keyCondition += " AND #sk <= :to";
    }
  }
  // What the cursor is valid for: this partition, these filters, this range.
  const scope = JSON.stringify([filters.map((f) => [f.attribute, f.value]), from ?? null, to ?? null]);
  const items: ControlItem[] = [];
  let start =
    input.cursor === undefined ? undefined : decodePageCursor(input.cursor, input.partition, scope, { from, to });
  let more = false;
  let reads = 0;
  const maxReads = input.maxReads ?? DEFAULT_MAX_READS;
  do {
    reads++;
    const page = await client.send(
      new QueryCommand({
        TableName: input.table,
        KeyConditionExpression: keyCondition,
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(" AND ") } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: Math.max(input.readAhead ?? 0, input.limit + 1 - items.length),
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      if (items.length === input.limit) {
        more = true;
        break;
      }
      items.push(item);
    }
    start = page.LastEvaluatedKey;
  } while (!more && start !== undefined && reads < maxReads);
  const last = items.at(-1)?.[CONTROL_KEY.sort]?.S;
  if (more && last !== undefined) return { items, cursor: encodePageCursor(input.partition, last, scope) };
  // Stopped at the read limit with more of the partition to read: go on from where the reading stopped.
  const stoppedAt = start?.[CONTROL_KEY.sort]?.S;
  if (!more && stoppedAt !== undefined) return { items, cursor: encodePageCursor(input.partition, stoppedAt, scope) };
  return { items };
}

/** How many Query requests one newestFirst call makes at most, unless told otherwise. */
const DEFAULT_MAX_READS = 20;

/** The cursor after the item with sort key `sk` of a partition, for a listing of this scope (filters and range). */
function encodePageCursor(partition: string, sk: string, scope: string): string {
  return encodeToken({ v: 1, pk: partition, sk, scope });
}

function decodePageCursor(
  cursor: string,
  partition: string,
  scope: string,
  range: { from?: string | undefined; to?: string | undefined },
): ControlItem {
  const body = readToken(cursor);
  // A cursor handed out before scopes were carried has none: it is one of the unfiltered listing.
  const unfiltered = JSON.stringify([[], null, null]);
  const given = body?.scope === undefined ? unfiltered : body.scope;
  if (body?.v !== 1 || body.pk !== partition || typeof body.sk !== "string" || given !== scope) {
    throw new ControlCursorError("the cursor is malformed or belongs to another listing; restart the listing");
  }
  // A cursor made by hand outside the listing's range (DynamoDB would refuse it as a start key).
  if ((range.from !== undefined && body.sk < range.from) || (range.to !== undefined && body.sk > range.to)) {
    throw new ControlCursorError("the cursor is outside the listing's range; restart the listing");
  }
  return { [CONTROL_KEY.partition]: { S: partition }, [CONTROL_KEY.sort]: { S: body.sk } };
}
