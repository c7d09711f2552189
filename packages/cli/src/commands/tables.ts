import { type Contract, ContractError, formatContractErrors, loadValidContract } from "@ferry/contract";
import type { ApplyProgress, ApplyReport, TablePlan } from "@ferry/runtime";
import { resolveConnections } from "@ferry/stack";
import { Command, Option } from "commander";
import { dynamoDbClientFor } from "../dynamodb-client.ts";
import { note, say } from "../output.ts";

interface ApplyOptions {
  contract: string;
  prefix?: string;
  dynamodbEndpoint?: string;
  dryRun?: boolean;
  quiet?: boolean;
}

interface ShowOptions {
  contract: string;
  format: "json" | "cloudformation";
  prefix?: string;
}

/** Exit code of `tables apply` when DynamoDB differs from the contract in ways ferry does not fix. */
export const DRIFT_EXIT_CODE = 2;

/** resolveConnections insists on a MySQL URL, which the table commands never use. */
const MYSQL_NOT_USED = "mysql://not-used-by-ferry-tables";

export function tablesCommand(): Command {
  const tables = new Command("tables").description(
    "the contract's DynamoDB tables and indexes: create or update them (idempotent), or print their definitions",
  );

  tables
    .command("apply")
    .description(
      "create the contract's missing tables and add missing indexes (one at a time), waiting until they are ACTIVE; never deletes anything, reports drift it leaves alone",
    )
    .requiredOption("--contract <file>", "the contract, e.g. contract/store.yaml")
    .option("--prefix <prefix>", 'put before every table name (default: FERRY_TABLE_PREFIX, else "")')
    .option(
      "--dynamodb-endpoint <url>",
      "DynamoDB to talk to (default: DYNAMODB_ENDPOINT, else the local stack's, else AWS itself)",
    )
    .option("--dry-run", "print what would be done (and the drift), change nothing")
    .option("-q, --quiet", "no progress lines while waiting for tables and indexes")
    .addHelpText(
      "after",
      `
Drift is what differs from the contract and is never changed by ferry: a table's key, an index's key or
projection, an index not in the contract, the billing mode. It is printed as "drift:" lines.

Exit codes:
  0  no drift: the tables match the contract (with --dry-run: once the planned changes are made)
  1  error: an invalid contract, DynamoDB unreachable or refusing a change
  ${DRIFT_EXIT_CODE}  drift was found (CI can fail on it); without --dry-run, everything else was applied

Examples:
  pnpm ferry tables apply --contract contract/store.yaml
  pnpm ferry tables apply --contract contract/store.yaml --prefix dev_ --dry-run
  FERRY_TABLE_PREFIX=prod_ AWS_REGION=eu-west-1 pnpm ferry tables apply --contract contract/store.yaml
    (AWS itself: no --dynamodb-endpoint, no DYNAMODB_ENDPOINT and no local stack; AWS credentials as usual)`,
    )
    .action(async (options: ApplyOptions) => {
      const contract = await readContract(options.contract);
      if (!contract) return;
      const { applyTables, dynamoDbLocation, planTables } = await import("@ferry/runtime");
      const { dynamodbEndpoint, region } = resolveConnections({
        mysqlUrl: MYSQL_NOT_USED,
        dynamodbEndpoint: options.dynamodbEndpoint,
      });
      const prefix = tablePrefix(options.prefix);
      const client = dynamoDbClientFor(dynamodbEndpoint, region);
      try {
        const where = await dynamoDbLocation(client);
        const named = prefix === "" ? "" : ` (table prefix ${prefix})`;
        if (options.dryRun) {
          note(`planning ${options.contract} against ${where}${named}; dry run: nothing is changed`);
          const plans = await planTables(client, contract, { prefix });
          printPlan(plans);
          finish(plans.flatMap((plan) => plan.drift));
          return;
        }
        note(`applying ${options.contract} to ${where}${named}`);
        const progress = new TableProgress(options.quiet ?? false);
        const report = await applyTables(client, contract, { prefix, onProgress: (event) => progress.show(event) });
        printReport(report);
        finish(report.drift);
      } finally {
        client.destroy();
      }
    });

  tables
    .command("show")
    .description("print the contract's table definitions: CreateTable inputs as JSON, or a CloudFormation template")
    .requiredOption("--contract <file>", "the contract, e.g. contract/store.yaml")
    .addOption(
      new Option("--format <format>", "json: CreateTable inputs; cloudformation: an AWS::DynamoDB::Table template")
        .choices(["json", "cloudformation"])
        .default("json"),
    )
    .option(
      "--prefix <prefix>",
      'json: put before every table name; cloudformation: the TablePrefix parameter\'s default (default: FERRY_TABLE_PREFIX, else "")',
    )
    .addHelpText(
      "after",
      `
The CloudFormation template deploys the same tables as \`ferry tables apply\` (point-in-time recovery on,
tables kept when the stack is deleted), with the prefix as a parameter:

Examples:
  pnpm ferry tables show --contract contract/store.yaml
  pnpm ferry tables show --contract contract/store.yaml --format cloudformation > tables.json
  aws cloudformation deploy --template-file tables.json --stack-name store-tables --parameter-overrides TablePrefix=prod_`,
    )
    .action(async (options: ShowOptions) => {
      const contract = await readContract(options.contract);
      if (!contract) return;
      const { cloudFormationTemplateJson, tableDefinitionsJson } = await import("@ferry/codegen/tables");
      const prefix = tablePrefix(options.prefix);
      const text =
        options.format === "cloudformation"
          ? cloudFormationTemplateJson(contract, { prefix })
          : tableDefinitionsJson(contract, { prefix });
      process.stdout.write(text);
    });

  return tables;
}

/** The contract, or undefined after printing its errors (file:line:col) with exit code 1. */
async function readContract(file: string): Promise<Contract | undefined> {
  try {
    return await loadValidContract(file);
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    process.stderr.write(`${formatContractErrors(error.issues)}\n`);
    process.stderr.write(`${file}: ${error.issues.length} ${error.issues.length === 1 ? "error" : "errors"}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

/** --prefix, else FERRY_TABLE_PREFIX (via resolveConnections' rule), else "". */
function tablePrefix(flag: string | undefined): string {
  return flag ?? resolveConnections({ mysqlUrl: MYSQL_NOT_USED }).tablePrefix;
}

function printPlan(plans: readonly TablePlan[]): void {
  for (const plan of plans) {
    if (plan.action === "create") {
      say(`${plan.table}: would be created${withIndexes(plan.indexes)}`);
    } else if (plan.action === "add-indexes") {
      for (const index of plan.indexes) say(`${plan.table}: would add index ${index}`);
    } else {
      say(`${plan.table}: no changes`);
    }
  }
}

function printReport(report: ApplyReport): void {
  const tables = [...new Set([...report.created, ...report.indexesAdded.map((a) => a.table), ...report.unchanged])];
  for (const table of tables) {
    if (report.created.includes(table)) say(`${table}: created`);
    for (const added of report.indexesAdded) if (added.table === table) say(`${table}: added index ${added.index}`);
    if (report.unchanged.includes(table)) say(`${table}: unchanged`);
  }
}

function finish(drift: readonly string[]): void {
  if (drift.length === 0) return;
  say(`\ndrift (${drift.length}, left as it is; exit code ${DRIFT_EXIT_CODE}):`);
  for (const line of drift) say(`  drift: ${line}`);
  process.exitCode = DRIFT_EXIT_CODE;
}

function withIndexes(indexes: readonly string[]): string {
  return indexes.length === 0 ? "" : ` with ${indexes.length === 1 ? "index" : "indexes"} ${indexes.join(", ")}`;
}

/**
 * Progress on stderr while apply works: what it starts, and while it waits for ACTIVE a line when the status
 * changes or every 10 s (index backfills on big tables take minutes to hours).
 */
class TableProgress {
  private last = "";
  private lastAt = 0;

  constructor(private readonly quiet: boolean) {}

  show(event: ApplyProgress): void {
    if (this.quiet) return;
    const what = "index" in event && event.index ? `${event.table} index ${event.index}` : event.table;
    switch (event.kind) {
      case "create-table":
        note(`  creating table ${event.table}${withIndexes(event.indexes)}`);
        break;
      case "add-index":
        note(`  adding index ${event.index} to ${event.table}`);
        break;
      case "waiting": {
        const key = `${what} ${event.status}`;
        const now = Date.now();
        if (key === this.last && now - this.lastAt < 10_000) return;
        this.last = key;
        this.lastAt = now;
        note(`  waiting for ${what} to become ACTIVE: ${event.status}, ${seconds(event.elapsedMs)}`);
        break;
      }
      case "active":
        this.last = "";
        note(`  ${what} is ACTIVE after ${seconds(event.elapsedMs)}`);
        break;
    }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
