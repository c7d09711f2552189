/**
 * `ferry outbox status | drain`: the failed secondary writes waiting to be replayed (docs/architecture.md,
 * "Outbox"). Writes for DynamoDB wait in the app's MySQL database (`ferry_outbox`), writes for MySQL in the
 * control table; `drain` replays them now, for the current phase's secondary store, with a progress bar.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ContractError, formatContractErrors, loadValidContract } from "@ferry/contract";
import { type OutboxMetrics, type Phase, type StoreName, secondaryStore } from "@ferry/runtime";
import { connectMysql, parseMysqlUrl, resolveConnections, withDatabase } from "@ferry/stack";
import { Command } from "commander";
import { dynamoDbClientFor } from "../dynamodb-client.ts";
import { wholeNumber } from "../options.ts";
import { note, say, table } from "../output.ts";
import { ProgressBar } from "../progress.ts";

interface OutboxOptions {
  contract: string;
  mysqlUrl?: string;
  database?: string;
  prefix?: string;
  dynamodbEndpoint?: string;
}

export function outboxCommand(): Command {
  const outbox = new Command("outbox").description(
    "the failed secondary writes waiting to be replayed: how many and how old, or replay them now",
  );

  withOptions(outbox.command("status"))
    .description("how many failed writes wait for each store, the oldest one's age, and where they are kept")
    .option("--json", "print it as JSON")
    .action(async (options: OutboxOptions & { json?: boolean }) => {
      await withOutbox(options, async ({ outbox, phase }) => {
        const metrics = await outbox.metrics();
        if (options.json) {
          say(JSON.stringify({ phase, ...metrics }, null, 2));
          return;
        }
        say(`phase ${phase}: replays go to ${secondaryStore(phase) ?? "no store (only one is written)"}`);
        say(
          table(
            (["dynamodb", "mysql"] as const).map((store) => [
              `for ${store}`,
              describe(metrics, store, outbox.storageOf(store)),
            ]),
          ),
        );
      });
    });

  withOptions(outbox.command("drain"))
    .description("replay the waiting writes for the current phase's secondary store now, until none is left or due")
    .option("--limit <n>", "keys per pass (default 100)", wholeNumber(1, 10_000))
    .option("-q, --quiet", "no progress bar")
    .addHelpText(
      "after",
      `
Each key is copied from the authoritative store as it is now (create, update or delete), so a replay is
idempotent and later writes are never undone. Entries whose store is still down stay, with their error.

Exit codes:
  0  nothing for the current secondary store is left
  1  entries are left (their last error is printed), or a store could not be reached`,
    )
    .action(async (options: OutboxOptions & { limit?: number; quiet?: boolean }) => {
      await withOutbox(options, async ({ outbox, phase }) => {
        const target = secondaryStore(phase);
        if (!target) {
          note(`phase ${phase} writes one store only: there is nothing to replay to`);
          return;
        }
        const total = (await outbox.metrics())[target].depth;
        note(`replaying ${total.toLocaleString("en-US")} waiting writes to ${target} (${outbox.storageOf(target)})`);
        const bar = new ProgressBar(options.quiet);
        let synced = 0;
        let failed = 0;
        for (;;) {
          const pass = await outbox.drain({ force: true, ...(options.limit ? { limit: options.limit } : {}) });
          synced += pass.synced;
          failed += pass.failed;
          bar.update("replayed", Math.min(synced, total), Math.max(total, synced));
          if (pass.synced === 0 || pass.remaining === 0) break;
        }
        const left = (await outbox.metrics())[target];
        say(`replayed ${synced.toLocaleString("en-US")}; ${left.depth.toLocaleString("en-US")} left for ${target}`);
        if (left.depth > 0) {
          process.exitCode = 1;
          note(`${failed} replays failed; the entries stay and are tried again by the app's outbox loop`);
        }
      });
    });
  return outbox;
}

function withOptions(command: Command): Command {
  return command
    .option("--contract <file>", "the contract the entries belong to", "contract/store.yaml")
    .option("--mysql-url <url>", "the app's MySQL (default: MYSQL_URL, else the local stack's)")
    .option("--database <db>", "the app's database there (default: the URL's, else `store`)")
    .option("--prefix <prefix>", 'the table prefix (default: FERRY_TABLE_PREFIX, else "")')
    .option(
      "--dynamodb-endpoint <url>",
      "DynamoDB to talk to (default: DYNAMODB_ENDPOINT, else the local stack's, else AWS itself)",
    );
}

function describe(metrics: OutboxMetrics, store: StoreName, where: string): string {
  const m = metrics[store];
  if (!m.readable) return `cannot be read (${where})`;
  const age = m.depth === 0 ? "" : `, oldest ${m.oldestAgeSeconds.toFixed(1)} s`;
  return `${m.depth.toLocaleString("en-US")} waiting${age}  (${where})`;
}

/** Builds the Outbox the app would run, over the phase in the control table, and closes every connection after. */
async function withOutbox(
  options: OutboxOptions,
  work: (context: { outbox: import("@ferry/runtime").Outbox; phase: Phase }) => Promise<void>,
): Promise<void> {
  let contract: Awaited<ReturnType<typeof loadValidContract>>;
  try {
    contract = await loadValidContract(options.contract);
  } catch (error) {
    if (error instanceof ContractError) {
      process.stderr.write(`${formatContractErrors(error.issues)}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  const { createCodec, DynamoEntityStore, FixedPhase, MysqlEntityStore, Outbox, PhaseStore } = await import(
    "@ferry/runtime"
  );
  const connections = resolveConnections({ mysqlUrl: options.mysqlUrl, dynamodbEndpoint: options.dynamodbEndpoint });
  const prefix = options.prefix ?? connections.tablePrefix;
  const database = options.database ?? parseMysqlUrl(connections.mysqlUrl).database ?? "store";
  const client: DynamoDBClient = dynamoDbClientFor(connections.dynamodbEndpoint, connections.region);
  const mysql = await connectMysql(withDatabase(connections.mysqlUrl, database));
  try {
    const { phase } = await new PhaseStore(client, { tablePrefix: prefix }).get();
    const codec = createCodec(contract);
    const outbox = new Outbox({
      phase: new FixedPhase(phase),
      codec,
      mysql: new MysqlEntityStore(mysql, codec),
      dynamodb: new DynamoEntityStore(client, codec, { tablePrefix: prefix }),
      mysqlConnection: mysql,
      controlTable: { client, tablePrefix: prefix },
      log: (message) => note(message),
    });
    await work({ outbox, phase });
  } finally {
    await mysql.end().catch(() => undefined);
    client.destroy();
  }
}
