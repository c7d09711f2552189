/** What the backfill run's tests share: the phase set in the control table, and both stores compared row by row. */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { TestStack } from "@ferry/stack/testing";
import type { EntityValue } from "../src/codec/index.ts";
import { ENTITY_ATTRIBUTE } from "../src/codec/index.ts";
import { PhaseStore } from "../src/control/phase-store.ts";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import type { Phase } from "../src/phases.ts";
import { SourceRows } from "../src/rows/index.ts";
import type { ContractStores } from "../src/testing/index.ts";

/** Moves the control table's phase to `to` (forced: these tests are about the backfill, not the guard rails). */
export async function setPhase(stack: TestStack, tablePrefix: string, to: Phase): Promise<void> {
  const phases = new PhaseStore(stack.dynamodb(), { tablePrefix });
  const state = await phases.get();
  if (state.phase === to) return;
  // The move may wait for the test's processes as long as CI's loaded cores make it take (a ceiling, not a goal); with
  // the default 30 s, one whose heartbeat aged past the stale limit would make a move of the authority give up at once.
  await phases.set(to, { who: "test", reason: "backfill test", force: true, confirm: to === 5, waitMs: 240_000 });
}

/**
 * Every difference between MySQL's rows and DynamoDB's items of `entity`, as readable lines: a row without its item,
 * an item without its row, a field that differs. [] when they agree.
 */
export async function differencesOf(
  stack: TestStack,
  testbed: ContractStores,
  entity: string,
  tablePrefix = stack.tablePrefix,
): Promise<string[]> {
  const codec = testbed.codec().entity(entity);
  const source = new SourceRows(testbed.connection(), testbed.codec());
  const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix });
  const found: string[] = [];
  const seen = new Set<string>();
  let after: EntityValue | undefined;
  for (;;) {
    const page = await source.page({ entity }, { after, limit: 1000 });
    for (const read of page) {
      if ("error" in read) {
        found.push(`${entity} ${JSON.stringify(read.key, bigints)}: unreadable`);
        continue;
      }
      const row = read.value;
      const key: EntityValue = {};
      for (const name of codec.identity) key[name] = row[name];
      const item = await dynamodb.get(entity, key);
      seen.add(JSON.stringify(codec.key(row)));
      if (item === undefined) found.push(`${entity} ${JSON.stringify(codec.key(row))}: no item`);
      else
        for (const diff of codec.diff(row, item))
          found.push(`${entity} ${JSON.stringify(codec.key(row))}: ${diff.field}`);
    }
    if (page.length < 1000) break;
    after = page.at(-1)?.key;
  }
  let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
  do {
    const out = await stack.dynamodb().send(
      new ScanCommand({
        TableName: `${tablePrefix}${codec.table}`,
        FilterExpression: "#e = :e",
        ExpressionAttributeNames: { "#e": ENTITY_ATTRIBUTE },
        ExpressionAttributeValues: { ":e": { S: entity } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const key = JSON.stringify(codec.key(codec.fromItem(item)));
      if (!seen.has(key)) found.push(`${entity} ${key}: an item without a row`);
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return found;
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
