/**
 * vitest global setup: one local stack per test run, started with the same launcher as
 * `ferry stack up` (in a throw-away home folder, DynamoDB in memory). MYSQL_URL / DYNAMODB_ENDPOINT,
 * when set, are used instead. Test files get their own database and table prefix from `testing.ts`.
 * First it stops the stacks of earlier runs that were killed before their teardown (see `test-homes.ts`).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { paginateListTables } from "@aws-sdk/client-dynamodb";
import type { TestProject } from "vitest/node";
import { dynamoDbClient } from "./dynamodb.ts";
import { connectMysql } from "./mysql.ts";
import { stackDown, stackUp } from "./stack.ts";
import { cleanAbandonedTestHomes, makeTestHome } from "./test-homes.ts";

export interface ProvidedStack {
  mysqlUrl: string;
  dynamodbEndpoint: string;
  /** Every database and table a test file makes starts with this, so a run can check it left nothing. */
  runPrefix: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    ferryStack: ProvidedStack;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await cleanAbandonedTestHomes();
  const home = makeTestHome();
  let state: Awaited<ReturnType<typeof stackUp>>;
  try {
    const started = Date.now();
    state = await stackUp({ home });
    const seconds = (Date.now() - started) / 1000;
    if (seconds > 20) console.warn(`ferry: the test stack took ${seconds.toFixed(0)} s to answer (a loaded machine)`);
  } catch (error) {
    // stackUp stopped whatever it started; nothing is left for a later run to clean up.
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const mysqlUrl = state.mysql?.url;
  const dynamodbEndpoint = state.dynamodb?.url;
  if (!mysqlUrl || !dynamodbEndpoint) {
    await finishTestStack(home, async () => []);
    throw new Error("the test stack did not come up");
  }
  const runPrefix = `ft${randomBytes(3).toString("hex")}`;
  project.provide("ferryStack", { mysqlUrl, dynamodbEndpoint, runPrefix });

  return () =>
    finishTestStack(home, async () => [
      ...(await leftoverDatabases(mysqlUrl, runPrefix)),
      ...(await leftoverTables(dynamodbEndpoint, runPrefix)),
    ]);
}

/**
 * The teardown: looks for what test files left behind, then always stops the stack and removes its
 * home (even when looking failed), and fails the run if anything was left or the look failed.
 * (Not named `teardown`: vitest would call an export of that name itself.)
 */
export async function finishTestStack(home: string, findLeftovers: () => Promise<string[]>): Promise<void> {
  let leftovers: string[] = [];
  try {
    leftovers = await findLeftovers();
  } finally {
    try {
      await stackDown({ home });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  if (leftovers.length > 0) throw new Error(`test files left databases or tables behind: ${leftovers.join(", ")}`);
}

async function leftoverDatabases(mysqlUrl: string, runPrefix: string): Promise<string[]> {
  const connection = await connectMysql(mysqlUrl);
  try {
    const [rows] = await connection.query(
      "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?",
      [`${runPrefix}\\_%`],
    );
    return (rows as Array<{ name: string }>).map((row) => row.name);
  } finally {
    await connection.end();
  }
}

async function leftoverTables(endpoint: string, runPrefix: string): Promise<string[]> {
  const client = dynamoDbClient(endpoint);
  try {
    const names: string[] = [];
    for await (const page of paginateListTables({ client }, {})) {
      names.push(...(page.TableNames ?? []).filter((name) => name.startsWith(`${runPrefix}_`)));
    }
    return names.map((name) => `table ${name}`);
  } finally {
    client.destroy();
  }
}
