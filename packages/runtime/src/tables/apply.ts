/**
 * `ferry tables apply`: makes DynamoDB hold the contract's tables. Idempotent and additive: it creates missing
 * tables, adds missing global secondary indexes one UpdateTable at a time (DynamoDB creates one per call), waits
 * until each is ACTIVE, and reports the drift it will not fix. It never deletes or rewrites anything.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import type { Contract } from "@ferry/contract";
import { attributeDefinitions, compareNames, contractTables, DEFAULT_PROVISIONED_THROUGHPUT } from "./definitions.ts";
import { planTable, type TablePlan } from "./plan.ts";
import { DynamoDbProblem, dynamoDbLocation, dynamoDbProblem, isServiceError } from "./problems.ts";

export interface ApplyReport {
  /** Tables created (physical names). */
  created: string[];
  /** Indexes added to tables that existed. */
  indexesAdded: Array<{ table: string; index: string }>;
  /** Tables that existed and needed nothing (drift or not). */
  unchanged: string[];
  /** What differs from the contract and was left alone, one sentence each. */
  drift: string[];
}

/** What apply is doing, for progress output. */
export type ApplyProgress =
  | { kind: "create-table"; table: string; indexes: string[] }
  | { kind: "add-index"; table: string; index: string }
  /** Still waiting for the table (or one of its indexes) to become ACTIVE; sent after every poll. */
  | { kind: "waiting"; table: string; index?: string; status: string; elapsedMs: number }
  | { kind: "active"; table: string; index?: string; elapsedMs: number };

export interface TableOptions {
  /** Put before every logical table name (FERRY_TABLE_PREFIX); "" for none. */
  prefix: string;
}

export interface ApplyOptions extends TableOptions {
  onProgress?: (event: ApplyProgress) => void;
  /** How long to wait for one table or index to become ACTIVE (default 30 minutes: index backfills take a while). */
  waitTimeoutMs?: number;
  /** The longest pause between two DescribeTable calls while waiting (default 5 s; polls start at 50 ms). */
  pollIntervalMs?: number;
}

const DEFAULT_WAIT_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 5_000;
/** Every request gets this long before it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 30_000;

/** What apply would do to every contract table, changing nothing (DescribeTable only): the dry run. */
export async function planTables(
  client: DynamoDBClient,
  contract: Pick<Contract, "tables">,
  options: TableOptions,
): Promise<TablePlan[]> {
  const dynamo = new Dynamo(client, await dynamoDbLocation(client));
  const plans: TablePlan[] = [];
  for (const { logicalName, input } of contractTables(contract, options)) {
    plans.push(planTable(logicalName, input, await dynamo.describe(input.TableName ?? logicalName)));
  }
  return plans;
}

/** Creates what is missing, waits for it, and reports what it did and the drift it left alone. */
export async function applyTables(
  client: DynamoDBClient,
  contract: Pick<Contract, "tables">,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const dynamo = new Dynamo(client, await dynamoDbLocation(client), options);
  const report: ApplyReport = { created: [], indexesAdded: [], unchanged: [], drift: [] };
  for (const { logicalName, input: definition } of contractTables(contract, options)) {
    const table = definition.TableName ?? logicalName;
    if (!(await dynamo.describe(table))) {
      options.onProgress?.({
        kind: "create-table",
        table,
        indexes: (definition.GlobalSecondaryIndexes ?? []).map((gsi) => gsi.IndexName ?? ""),
      });
      if (await dynamo.create(definition)) {
        await dynamo.waitUntilActive(table);
        report.created.push(table);
        continue;
      }
      // Someone else created it meanwhile: from here on it is an existing table.
    }
    // Indexes still CREATING (an earlier run that stopped waiting) must finish before another can be added.
    const existing = await dynamo.waitUntilActive(table);
    const plan = planTable(logicalName, definition, existing);
    report.drift.push(...plan.drift);
    if (plan.action !== "add-indexes") {
      report.unchanged.push(table);
      continue;
    }
    for (const index of plan.indexes) {
      const gsi = definition.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === index);
      if (!gsi) continue;
      options.onProgress?.({ kind: "add-index", table, index });
      await dynamo.addIndex(table, {
        ...gsi,
        ProvisionedThroughput: plan.billingMode === "PROVISIONED" ? { ...DEFAULT_PROVISIONED_THROUGHPUT } : undefined,
      });
      await dynamo.waitUntilActive(table, index);
      report.indexesAdded.push({ table, index });
    }
  }
  return report;
}

/** The DynamoDB calls apply makes, with errors a person can act on and the ACTIVE polling. */
class Dynamo {
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly location: string,
    private readonly options: Pick<ApplyOptions, "onProgress" | "waitTimeoutMs" | "pollIntervalMs"> = {},
  ) {
    this.waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  /** The table as DynamoDB describes it, undefined when there is none. */
  async describe(table: string): Promise<TableDescription | undefined> {
    try {
      const answer = await this.client.send(new DescribeTableCommand({ TableName: table }), {
        abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return answer.Table;
    } catch (error) {
      if (isServiceError(error, "ResourceNotFoundException")) return undefined;
      throw dynamoDbProblem(error, this.location, `describe table ${table}`);
    }
  }

  /** Creates the table; false when it already exists (made by someone else since we looked). */
  async create(definition: CreateTableCommandInput): Promise<boolean> {
    try {
      await this.client.send(new CreateTableCommand(definition), {
        abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return true;
    } catch (error) {
      if (isServiceError(error, "ResourceInUseException")) return false;
      throw dynamoDbProblem(error, this.location, `create table ${definition.TableName}`);
    }
  }

  async addIndex(table: string, gsi: GlobalSecondaryIndex): Promise<void> {
    try {
      await this.client.send(
        new UpdateTableCommand({
          TableName: table,
          AttributeDefinitions: attributeDefinitions([gsi.KeySchema ?? []]),
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: gsi.IndexName,
                KeySchema: gsi.KeySchema,
                Projection: gsi.Projection,
                ProvisionedThroughput: gsi.ProvisionedThroughput,
              },
            },
          ],
        }),
        { abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      );
    } catch (error) {
      throw dynamoDbProblem(error, this.location, `add index ${gsi.IndexName} to table ${table}`);
    }
  }

  /**
   * Polls DescribeTable until the table is ACTIVE and so is `index` (or, without one, every index), reporting
   * each poll; returns the last description.
   */
  async waitUntilActive(table: string, index?: string): Promise<TableDescription> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    for (let attempt = 0; ; attempt++) {
      const description = await this.describe(table);
      if (!description) {
        throw new DynamoDbProblem(`table ${table} disappeared while ferry waited for it to become ACTIVE`, {
          hint: "someone deleted it meanwhile: run `ferry tables apply` again",
        });
      }
      const status = pendingStatus(description, index);
      if (status === undefined) {
        if (attempt > 0)
          this.options.onProgress?.({ kind: "active", table, ...(index ? { index } : {}), elapsedMs: elapsed() });
        return description;
      }
      if (status.fatal) {
        throw new DynamoDbProblem(`table ${table} is ${status.text}; ferry cannot change it now`, {
          hint: "see the table in the AWS console, then run `ferry tables apply` again",
        });
      }
      if (elapsed() >= this.waitTimeoutMs) {
        const what = index ? `index ${index} of table ${table}` : `table ${table}`;
        throw new DynamoDbProblem(`${what} is still ${status.text} after ${Math.round(elapsed() / 1000)} s`, {
          hint: "DynamoDB keeps working on it: run `ferry tables apply` again later, it carries on where this run stopped",
        });
      }
      this.options.onProgress?.({
        kind: "waiting",
        table,
        ...(status.index ? { index: status.index } : {}),
        status: status.text,
        elapsedMs: elapsed(),
      });
      await sleep(Math.min(this.pollIntervalMs, 50 * 2 ** attempt));
    }
  }
}

/** Why the table is not ready yet, or undefined when it is (table ACTIVE, and the index or all indexes ACTIVE). */
function pendingStatus(
  description: TableDescription,
  index: string | undefined,
): { text: string; index?: string; fatal: boolean } | undefined {
  const tableStatus = description.TableStatus ?? "ACTIVE";
  if (tableStatus !== "ACTIVE") {
    return { text: tableStatus, fatal: tableStatus !== "CREATING" && tableStatus !== "UPDATING" };
  }
  const indexes = description.GlobalSecondaryIndexes ?? [];
  if (index !== undefined && !indexes.some((gsi) => gsi.IndexName === index)) {
    throw new DynamoDbProblem(
      `index ${index} of table ${description.TableName} disappeared while ferry waited for it`,
      {
        hint: "DynamoDB dropped it (a failed backfill?) or someone deleted it: run `ferry tables apply` again",
      },
    );
  }
  const byName = [...indexes].sort((a, b) => compareNames(a.IndexName ?? "", b.IndexName ?? ""));
  for (const gsi of byName) {
    if (index !== undefined && gsi.IndexName !== index) continue;
    const status = gsi.IndexStatus ?? "ACTIVE";
    if (status !== "ACTIVE") {
      const text = gsi.Backfilling ? `${status} (backfilling)` : status;
      return { text, index: gsi.IndexName ?? "", fatal: false };
    }
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
