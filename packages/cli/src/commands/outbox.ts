import { ContractError, formatContractErrors, loadValidContract } from "@ferry/contract";
import {
  type OutboxEntry,
  type OutboxMetrics,
  PHASES,
  type Phase,
  type PhaseSource,
  type StoreName,
  type StrandedKey,
  secondaryStore,
} from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { Command, Option } from "commander";
import { wholeNumber } from "../options.ts";
import { note, say, table } from "../output.ts";
import { ProgressBar } from "../progress.ts";
import { storeConnections, withStoreConnections } from "../store-connections.ts";

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
      await withOutbox(options, false, async ({ outbox, phase }) => {
        const metrics = await outbox.metrics();
        const stuck: Record<StoreName, OutboxEntry[]> = { dynamodb: [], mysql: [] };
        for (const store of STORES) {
          if (metrics[store].stuck > 0) stuck[store] = await outbox.stuckEntries(store, STUCK_SHOWN);
        }
        if (options.json) {
          const entries = (store: StoreName) => stuck[store].map(stuckJson);
          say(
            JSON.stringify(
              {
                phase,
                dynamodb: { ...metrics.dynamodb, stuckEntries: entries("dynamodb") },
                mysql: { ...metrics.mysql, stuckEntries: entries("mysql") },
              },
              null,
              2,
            ),
          );
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
        for (const store of STORES) {
          const stranded = metrics[store].stranded;
          if (stranded === 0) continue;
          say("");
          const both = phase >= 2 && phase <= 4;
          say(
            `${stranded.toLocaleString("en-US")} entries for ${store} are STRANDED: they were recorded while ${store} was the ` +
              `secondary store, and ${store} is authoritative in phase ${phase}. ` +
              (both
                ? `They settle by themselves: each key is copied from ${otherName(store)} once no write of it is on its ` +
                  `way there, on condition that ${store} has not changed meanwhile. To choose the winner yourself:`
                : `${otherName(store)} takes no writes in phase ${phase}, so nothing says which value is newer: they ` +
                  "wait until you choose which store's values win:"),
          );
          say(`  ferry outbox resolve --from mysql|dynamodb [--entity <name>] [--dry-run]`);
        }
        for (const store of STORES) {
          if (stuck[store].length === 0) continue;
          say("");
          say(
            `${metrics[store].stuck.toLocaleString("en-US")} entries for ${store} are STUCK (their sync keeps failing for a reason ` +
              "no retry is expected to fix; they are kept and still tried, slowly):",
          );
          for (const entry of stuck[store]) {
            say(
              `  ${entry.entity} ${encodeKeyText(entry.key)}  ${entry.attempts} attempts, stuck since ` +
                `${new Date(entry.stuckSince ?? 0).toISOString()}\n    ${entry.lastError ?? "(no error recorded)"}`,
            );
          }
          if (metrics[store].stuck > stuck[store].length)
            say(`  ... and ${metrics[store].stuck - stuck[store].length} more`);
        }
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
      await withOutbox(options, true, async ({ outbox, phase, live }) => {
        const target = secondaryStore(phase);
        if (!target) {
          note(`phase ${phase} writes one store only: there is nothing to replay to`);
          return;
        }
        note(
          `replaying ${(await outbox.metrics())[target].depth.toLocaleString("en-US")} waiting writes to ${target} (${outbox.storageOf(target)})`,
        );
        const bar = new ProgressBar(options.quiet);
        const { drainNow } = await import("@ferry/runtime");
        const result = await drainNow(outbox, live, {
          ...(options.limit ? { limit: options.limit } : {}),
          onPass: (synced, total) => bar.update("replayed", Math.min(synced, total), Math.max(total, synced)),
        });
        if (result.phaseMoved) note(`the phase moved: ${target} is no longer the secondary store; stopping`);
        say(
          `replayed ${result.synced.toLocaleString("en-US")}; ${result.left.toLocaleString("en-US")} left for ${target}`,
        );
        if (result.left > 0) {
          process.exitCode = 1;
          note(`${result.failed} replays failed; the entries stay and are tried again by the app's outbox loop`);
        }
      });
    });
  withOptions(outbox.command("resolve"))
    .description(
      "settle the STRANDED entries (for the store that is authoritative now, left by a forced phase move): copy each key from the store you name",
    )
    .addOption(
      new Option("--from <store>", "the store whose values win (each key is copied from it to the other)")
        .choices(["mysql", "dynamodb"])
        .makeOptionMandatory(),
    )
    .option("--entity <name>", "only this entity's entries")
    .option("--dry-run", "show each key's difference between the stores, change nothing")
    .option("-q, --quiet", "no progress bar")
    .addHelpText(
      "after",
      `
An entry is stranded when its store became authoritative before it was replayed (recorded for DynamoDB in
phase 3, now phase 4; recorded for MySQL in phase 4, now phase 3); only a forced move leaves them, as a
safe move waits for them. In phases 2-4 they settle by themselves (each key copied from the other store
once no write of it is on its way there, on condition that the authoritative item has not changed); in
phases 1 and 5 the other store takes no writes, so you choose. For each key, resolve prints the fields that
differ (the codec's normalised values, --from's on the left), copies the key from --from to the other
store and removes its entries.

  --from mysql      apply the writes the stranded store missed (MySQL's values win)
  --from dynamodb   keep DynamoDB's values and bring MySQL back to them

Exit codes:
  0  every stranded entry was settled (or, with --dry-run, shown)
  1  some keys could not be synced (their entries stay), or a store could not be reached`,
    )
    .action(
      async (options: OutboxOptions & { from: StoreName; entity?: string; dryRun?: boolean; quiet?: boolean }) => {
        await withOutbox(options, true, async ({ outbox, phase, entities }) => {
          if (options.entity !== undefined && !entities.includes(options.entity)) {
            throw new Error(`the contract has no entity '${options.entity}' (it has ${entities.join(", ")})`);
          }
          const target = PHASES[phase].authoritative;
          const total = (await outbox.metrics())[target].stranded;
          if (total === 0) {
            say(`nothing is stranded: no entry for ${target} (authoritative in phase ${phase}) waits`);
            return;
          }
          note(
            `${options.dryRun ? "showing" : "settling"} ${total.toLocaleString("en-US")} stranded entries for ${target} ` +
              `from ${options.from}${options.entity ? ` (${options.entity} only)` : ""}`,
          );
          const bar = new ProgressBar(options.quiet);
          let done = 0;
          const result = await outbox.resolveStranded({
            from: options.from,
            ...(options.entity ? { entity: options.entity } : {}),
            ...(options.dryRun ? { dryRun: true } : {}),
            onKey: (key) => {
              say(describeKey(key, options.from));
              done += key.entries;
              bar.update(options.dryRun ? "compared" : "resolved", Math.min(done, total), Math.max(total, done));
            },
          });
          say(
            options.dryRun
              ? `${result.keys.toLocaleString("en-US")} keys compared; nothing changed (--dry-run)`
              : `${result.resolved.toLocaleString("en-US")} keys resolved from ${options.from}, ${result.failed.toLocaleString("en-US")} failed`,
          );
          if (result.failed > 0) process.exitCode = 1;
        });
      },
    );
  return outbox;
}

const STORES: readonly StoreName[] = ["dynamodb", "mysql"];

/** Stuck entries listed by `status` per store (the count says how many there are). */
const STUCK_SHOWN = 50;

function otherName(store: StoreName): StoreName {
  return store === "mysql" ? "dynamodb" : "mysql";
}

/** A key as JSON text (bigints as their digits). */
function encodeKeyText(key: Record<string, unknown>): string {
  return JSON.stringify(key, (_name, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

function stuckJson(entry: OutboxEntry) {
  return {
    entity: entry.entity,
    key: JSON.parse(encodeKeyText(entry.key)) as unknown,
    attempts: entry.attempts,
    lastError: entry.lastError ?? null,
    stuckSince: entry.stuckSince === undefined ? null : new Date(entry.stuckSince).toISOString(),
  };
}

/** One key of `resolve`: what differs and what was done. */
function describeKey(key: StrandedKey, from: StoreName): string {
  const winner = from === "mysql" ? key.mysql : key.dynamodb;
  const loser = from === "mysql" ? key.dynamodb : key.mysql;
  const other = otherName(from);
  const lines = [`${key.entity} ${encodeKeyText(key.key)}`];
  if (winner === undefined && loser === undefined) lines.push("  on neither store");
  else if (winner === undefined) lines.push(`  absent on ${from}, present on ${other}: deleted there`);
  else if (loser === undefined) lines.push(`  absent on ${other}: created there`);
  else if (key.diff.length === 0) lines.push("  the same on both stores");
  for (const field of winner === undefined || loser === undefined ? [] : key.diff) {
    lines.push(`  ${field.field}: ${from} ${String(field.left)}  ${other} ${String(field.right)}`);
  }
  if (key.error !== undefined) lines.push(`  FAILED (its entries stay): ${key.error}`);
  else if (key.outcome !== undefined) lines.push(`  ${key.outcome} on ${other}`);
  return lines.join("\n");
}

function withOptions(command: Command): Command {
  return withStoreConnections(
    command.option("--contract <file>", "the contract the entries belong to", "contract/store.yaml"),
  );
}

function describe(metrics: OutboxMetrics, store: StoreName, where: string): string {
  const m = metrics[store];
  if (!m.readable) return `cannot be read (${where})`;
  const age = m.depth === 0 ? "" : `, oldest ${m.oldestAgeSeconds.toFixed(1)} s`;
  const stuck = m.stuck === 0 ? "" : `, ${m.stuck.toLocaleString("en-US")} stuck`;
  const stranded = m.stranded === 0 ? "" : `, ${m.stranded.toLocaleString("en-US")} STRANDED`;
  return `${m.depth.toLocaleString("en-US")} waiting${age}${stuck}${stranded}  (${where})`;
}

/**
 * Builds the Outbox the app would run, over the phase in the control table, and closes every connection after. With
 * `member`, this process joins the fleet while it works (a CachedPhase with its heartbeat, as the app's processes), so
 * that a move of the authoritative store waits for the replays it has in flight, as it does for the app's own drains.
 */
async function withOutbox(
  options: OutboxOptions,
  member: boolean,
  work: (context: {
    outbox: import("@ferry/runtime").Outbox;
    phase: Phase;
    /** The phase as this command's member of the fleet holds it, read again on demand (the outbox follows it). */
    live: import("@ferry/runtime").RefreshablePhase;
    entities: string[];
  }) => Promise<void>,
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
  const { CachedPhase, createCodec, DynamoEntityStore, MysqlEntityStore, Outbox, PhaseStore } = await import(
    "@ferry/runtime"
  );
  const { mysqlUrl, tablePrefix: prefix, client } = storeConnections(options);
  // A pool: the outbox's rows must not go on the connection the stores run transactions on (they would join one).
  const mysql = createMysqlPool(mysqlUrl, { connectionLimit: 4 });
  try {
    await mysql.query("SELECT 1");
    const phases = new PhaseStore(client, { tablePrefix: prefix });
    const live = member
      ? new CachedPhase(phases, {
          app: "ferry-cli",
          onError: (error) => note(`reading the phase failed; keeping the last one: ${String(error)}`),
        })
      : undefined;
    await live?.start();
    const phase = live?.phase() ?? (await phases.get()).phase;
    const source: PhaseSource = live ?? { phase: () => phase };
    const codec = createCodec(contract);
    const outbox = new Outbox({
      phase: source,
      codec,
      mysql: new MysqlEntityStore(mysql, codec),
      dynamodb: new DynamoEntityStore(client, codec, { tablePrefix: prefix }),
      mysqlConnection: mysql,
      controlTable: { client, tablePrefix: prefix },
      log: (message) => note(message),
    });
    try {
      await work({
        outbox,
        phase,
        live: {
          phase: () => live?.phase() ?? phase,
          refresh: async () => {
            if (live === undefined) throw new Error("the phase is read once for this command");
            return live.refresh();
          },
        },
        entities: Object.keys(contract.entities),
      });
    } finally {
      await live?.stop();
    }
  } finally {
    await mysql.end().catch(() => undefined);
    client.destroy();
  }
}
