/**
 * `pnpm bench backfill [--rows N] [--seed S] [--writers N] [--raw-concurrency N]`: how fast `runBackfill` moves the
 * store's rows into DynamoDB, against the raw BatchWriteItem ceiling on the same items, measured in one run on a
 * private MariaDB + DynamoDB Local over ~N synthetic rows (default 1,000,000, every entity together).
 *
 * - Raw: the rows read (SourceRows pages, copies filled with withCopies), mapped with entityItems (the item and its
 *   unique markers), and written with plain BatchWriteItem (25 a request, several in flight, unprocessed items sent
 *   again) into a fresh table prefix, after a warm-up of DynamoDB Local (much slower cold).
 * - Backfill idle: runBackfill in a child process (its peak RSS read there) into a fresh prefix in phase 2; goal:
 *   backfill/raw >= 0.8, and peak RSS <= 300 MB.
 * - Validation: measured when the runtime has it; otherwise said so (MISS).
 * - Two workers: two child processes on one fresh prefix, sharing the run through the ledger, against one.
 * - Backfill under live load (last, since its writes change the data): runBackfill in a child process while writers
 *   in this process change carts, users and products through the generated repositories over a phase-2 router (both
 *   stores); the load's ops/s and errors are reported.
 *
 * After each pass the items of every entity in DynamoDB are counted against MySQL's rows: a difference fails the
 * bench (it is an error, not a number).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import {
  applyTables,
  BackfillPage,
  BulkWriter,
  type Codec,
  createCodec,
  DynamoEntityStore,
  ENTITY_ATTRIBUTE,
  type EntityValue,
  entityItems,
  entityKey,
  FixedPhase,
  KeySync,
  type MysqlExecutor,
  PhaseStore,
  runBackfill,
  SourceRows,
  scanSegments,
  validate,
} from "@ferry/runtime";
import { createMysqlPool, describeError, dynamoDbClient, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { seedStore } from "@ferry/store";
import { contract, createStore, type Store } from "@ferry/store-data";
import pLimit from "p-limit";
import { type Goal, publish, type Row } from "./report.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** Scan requests in flight while the bench counts a table's items. */
const COUNT_SCANS_IN_FLIGHT = 8;
const thisFile = fileURLToPath(import.meta.url);
const root = dirname(here);

const DATABASE = "bench_backfill";
const CONTRACT = "contract/store.yaml";
const GOAL_RATIO = 0.8;
const GOAL_RSS_MB = 300;
const PAGE_ROWS = 1000;
const BATCH = 25;

/** The default bench seed's proportions (100k users, 20k products, 1M orders, ~3.67M rows) scaled to `rows`. */
function planFor(rows: number, seed: number) {
  const unit = rows / 3_666_000;
  return {
    kind: "synthetic" as const,
    users: Math.max(1, Math.round(100_000 * unit)),
    products: Math.max(1, Math.round(20_000 * unit)),
    orders: Math.max(1, Math.round(1_000_000 * unit)),
    seed,
  };
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
      writers: { type: "string", default: "4" },
      "raw-concurrency": { type: "string", default: "12" },
      // Hidden, for working on one measure: a comma list of raw, idle, validation, pair, live (validation needs idle).
      passes: { type: "string", default: "raw,idle,validation,pair,live" },
      // Hidden: DynamoDB Local on disk (-dbPath) instead of in memory, to see how it scales.
      persist: { type: "boolean", default: false },
    },
  });
  const passes = new Set(values.passes.split(","));
  if (passes.has("validation")) passes.add("idle");
  passes.add("raw");
  const plan = planFor(Number(values.rows), Number(values.seed));
  const home = mkdtempSync(join(tmpdir(), "ferry-bench-backfill-"));
  // DynamoDB Local starts with a 256 MB heap, which a million rows' items (in memory, several prefixes one after
  // the other) outgrow: it answers InternalFailure. Java takes _JAVA_OPTIONS after the stack's JAVA_TOOL_OPTIONS.
  process.env._JAVA_OPTIONS ??= "-Xmx2g";
  let logFile: string | undefined;
  try {
    const state = await stackUp({
      home,
      ...(values.persist ? { persistDynamoDb: true } : {}),
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    logFile = state.dynamodb?.logFile;
    const serverUrl = state.mysql?.url;
    const endpoint = state.dynamodb?.url;
    if (!serverUrl || !endpoint) throw new Error("the private stack did not come up");
    await run({
      mysqlUrl: withDatabase(serverUrl, DATABASE),
      endpoint,
      plan,
      writers: Number(values.writers),
      rawConcurrency: Number(values["raw-concurrency"]),
      passes,
    });
  } catch (error) {
    if (logFile !== undefined && existsSync(logFile)) {
      process.stderr.write(`DynamoDB Local's log, its end:\n${readFileSync(logFile, "utf8").slice(-3000)}\n`);
    }
    throw error;
  } finally {
    await stackDown({ home }).catch((error: unknown) => process.stderr.write(`stack down: ${describeError(error)}\n`));
    rmSync(home, { recursive: true, force: true });
  }
}

interface RunInput {
  mysqlUrl: string;
  endpoint: string;
  plan: ReturnType<typeof planFor>;
  writers: number;
  rawConcurrency: number;
  passes: ReadonlySet<string>;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

async function run(input: RunInput): Promise<void> {
  const { mysqlUrl, endpoint, plan } = input;
  say(`seeding ${JSON.stringify(plan)} ...`);
  const seeded = await seedStore({ mysqlUrl, plan, reset: true });
  const sourceRows = Object.values(seeded.rows).reduce((a, b) => a + b, 0);
  say(
    `seeded ${sourceRows.toLocaleString("en-US")} rows in ${seeded.seconds.toFixed(1)} s: ${JSON.stringify(seeded.rows)}`,
  );

  const client = dynamoDbClient(endpoint);
  const pool = createMysqlPool(mysqlUrl, { connectionLimit: 8 });
  const codec = createCodec(contract);
  const rows: Row[] = [];
  const notes: string[] = [];
  const goals: Goal[] = [];
  const row = (measure: string, cells: Partial<Row>): Row => {
    say(`measured: ${measure} ${JSON.stringify(cells)}`);
    return {
      measure,
      rows: null,
      items: null,
      seconds: null,
      "rows/s": null,
      "items/s": null,
      "of raw": null,
      "peak RSS MB": null,
      ...cells,
    };
  };
  try {
    // Warm-up: DynamoDB Local's JIT and SQLite caches, on a prefix thrown away after.
    const warmRows = Math.min(100_000, Math.round(sourceRows / 5));
    say(`warming DynamoDB Local up (${warmRows.toLocaleString("en-US")} rows, raw) ...`);
    await freshTables(client, "warm_");
    await rawWrite(pool, codec, client, "warm_", input.rawConcurrency, warmRows);
    await dropTables(client, "warm_");

    // 1. Raw BatchWriteItem.
    say("raw: BatchWriteItem of every row's items ...");
    await freshTables(client, "raw_");
    const raw = await rawWrite(pool, codec, client, "raw_", input.rawConcurrency);
    const rawCheck = await checkCounts(pool, codec, client, "raw_");
    if (rawCheck.items !== raw.items)
      throw new Error(`raw: ${raw.items} items written, ${rawCheck.items} in the table`);
    await dropTables(client, "raw_");
    const rawRate = raw.rows / raw.seconds;
    rows.push(
      row(`raw: read + entityItems + BatchWriteItem (${input.rawConcurrency} in flight)`, {
        rows: raw.rows,
        items: raw.items,
        seconds: raw.seconds,
        "rows/s": Math.round(rawRate),
        "items/s": Math.round(raw.items / raw.seconds),
        "of raw": 1,
      }),
    );
    notes.push(
      `raw: of its ${raw.seconds.toFixed(1)} s, ${raw.readSeconds.toFixed(1)} s were spent reading and mapping (overlapped with the writes: pages read ahead)`,
    );

    // 2 + 4. The backfill, idle, in a child process (its peak RSS).
    let idleRate: number | undefined;
    if (input.passes.has("idle")) {
      say("backfill, idle (child process) ...");
      await freshTables(client, "idle_", true);
      const [idle] = await children(input, "idle_", 1);
      if (idle === undefined) throw new Error("the idle backfill child reported nothing");
      const idleCheck = await checkCounts(pool, codec, client, "idle_");
      const idleSeconds = idle.seconds;
      idleRate = idle.written / idleSeconds;
      const idleRatio = idleRate / rawRate;
      const rssMb = idle.maxRssKb / 1024;
      rows.push(
        row("backfill idle: runBackfill, 1 worker (child process)", {
          rows: idle.written,
          items: idleCheck.items,
          seconds: idleSeconds,
          "rows/s": Math.round(idleRate),
          "items/s": Math.round(idleCheck.items / idleSeconds),
          "of raw": idleRatio,
          "peak RSS MB": Math.round(rssMb),
        }),
      );
      goals.push(
        {
          figure: "backfill idle rows/s, of raw BatchWriteItem's",
          value: idleRatio,
          unit: "x",
          op: ">=",
          bound: GOAL_RATIO,
          baseline: `raw: ${Math.round(rawRate).toLocaleString("en-US")} rows/s`,
        },
        { figure: "backfill peak RSS", value: rssMb, unit: "MB", op: "<=", bound: GOAL_RSS_MB },
      );
      notes.push(
        `backfill idle, where the time went (${idle.pages} pages): ${describeProfile(idle.profile, idleSeconds)}`,
      );

      // 5. Validation of the backfilled prefix: every row against its items and markers, every item scanned.
      if (input.passes.has("validation")) {
        say("validation of the backfilled tables ...");
        const cpuBefore = process.cpuUsage();
        const validation = await validate(
          { codec, mysql: pool, client, tablePrefix: "idle_" },
          { contract: "contract/store.yaml", who: "bench", recheckMs: 0 },
        );
        const validationSeconds = validation.report.durationMs / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        notes.push(
          `validation: this process used ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU in its ${validationSeconds.toFixed(1)} s`,
        );
        const validationItems = validation.report.totals.items + validation.report.totals.markers;
        if (!validation.report.clean) {
          throw new Error(
            `validation of the backfilled tables found ${validation.report.totals.differences} differences`,
          );
        }
        rows.push(
          row("validation: validate(), every entity, no sample (clean)", {
            rows: validation.report.totals.rows,
            items: validationItems,
            seconds: validationSeconds,
            "rows/s": Math.round(validation.report.totals.rows / validationSeconds),
            "items/s": Math.round(validationItems / validationSeconds),
          }),
        );
        goals.push({
          figure: "validation items/s, of the backfill's",
          value: validationItems / validationSeconds / (idleCheck.items / idleSeconds),
          unit: "x",
          op: ">=",
          bound: 1,
          baseline: `backfill idle: ${Math.round(idleCheck.items / idleSeconds).toLocaleString("en-US")} items/s`,
        });
      }
      await dropTables(client, "idle_");
    }

    // 6. Two workers on one run.
    if (input.passes.has("pair")) {
      say("backfill, two workers on one run ...");
      await freshTables(client, "pair_", true);
      const pair = await children(input, "pair_", 2);
      const pairCheck = await checkCounts(pool, codec, client, "pair_");
      const pairSeconds = (Math.max(...pair.map((c) => c.endedAt)) - Math.min(...pair.map((c) => c.startedAt))) / 1000;
      const pairWritten = pair.reduce((sum, c) => sum + c.written, 0);
      const pairRate = pairWritten / pairSeconds;
      rows.push(
        row("backfill idle: 2 workers (child processes), one run", {
          rows: pairWritten,
          items: pairCheck.items,
          seconds: pairSeconds,
          "rows/s": Math.round(pairRate),
          "items/s": Math.round(pairCheck.items / pairSeconds),
          "of raw": pairRate / rawRate,
          "peak RSS MB": Math.round(Math.max(...pair.map((c) => c.maxRssKb)) / 1024),
        }),
      );
      notes.push(
        `two workers: ${idleRate === undefined ? "?" : (pairRate / idleRate).toFixed(2)}x one worker's rows/s (${pair.map((c) => `${c.written} rows`).join(" + ")}); reported, no goal`,
      );
      await dropTables(client, "pair_");
    }

    // 3. The backfill under a live write load (last: its writes change the data).
    if (input.passes.has("live")) {
      say(`backfill under live load (${input.writers} writers) ...`);
      await freshTables(client, "live_", true);
      const load = new LiveLoad(pool, client, "live_", plan, input.writers);
      load.start();
      const [live] = await children(input, "live_", 1);
      const loadResult = await load.stop();
      if (live === undefined) throw new Error("the backfill child under load reported nothing");
      const liveCheck = await checkCounts(pool, codec, client, "live_");
      const liveRate = live.written / live.seconds;
      rows.push(
        row(`backfill under live load (${input.writers} writers), 1 worker`, {
          rows: live.written,
          items: liveCheck.items,
          seconds: live.seconds,
          "rows/s": Math.round(liveRate),
          "items/s": Math.round(liveCheck.items / live.seconds),
          "of raw": liveRate / rawRate,
        }),
      );
      rows.push(
        row(
          `live load during it: ${loadResult.ops} ops, ${loadResult.errors} errors, ${loadResult.secondaryFailures} secondary failures`,
          { seconds: loadResult.seconds, "rows/s": null, "items/s": null },
        ),
      );
      notes.push(
        `live load: ${(loadResult.ops / loadResult.seconds).toFixed(0)} ops/s (${Object.entries(loadResult.byKind)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(
            ", ",
          )}); ${loadResult.errors} errors${loadResult.firstError ? ` (first: ${loadResult.firstError})` : ""}; ${loadResult.refused} refused by a unique rule (expected, not errors); the backfill re-synced ${live.resynced} rows and skipped ${live.skipped}`,
      );
      notes.push(`backfill under load, where the time went: ${describeProfile(live.profile, live.seconds)}`);
      if (loadResult.errors > 0 || loadResult.secondaryFailures > 0) {
        notes.push("the live load had errors: see the row above");
      }
      await dropTables(client, "live_");
    }

    notes.push(
      `synthetic plan: users ${plan.users}, products ${plan.products}, orders ${plan.orders}, seed ${plan.seed}: ${Object.entries(
        seeded.rows,
      )
        .map(([table, n]) => `${table} ${n}`)
        .join(", ")}`,
      `items: each row's item plus its unique markers (users 2, categories 1; order items and carts none: their rules are their keys); both write them in the same unconditional batches as the items (docs/backfill.md, "Markers")`,
      `rows/s: rows written over the worker's own time (runBackfill call to return, in the child); items/s: items in the table (markers included) over the same time`,
      "after every pass each entity's items in DynamoDB were counted against MySQL's rows: all equal",
      `one private MariaDB and one DynamoDB Local (in memory) on this machine; page ${PAGE_ROWS} rows, runBackfill's defaults otherwise`,
    );
    publish({ name: "backfill", rows, goals, notes });
  } finally {
    client.destroy();
    await pool.end();
  }
}

/** Fresh contract tables under `prefix` (dropped first if there), phase 2 set in its control table when asked. */
async function freshTables(client: DynamoDBClient, prefix: string, phase2 = false): Promise<void> {
  await dropTables(client, prefix);
  await applyTables(client, contract, { prefix });
  if (phase2)
    await new PhaseStore(client, { tablePrefix: prefix }).set(2, { who: "bench", reason: "bench", force: true });
}

async function dropTables(client: DynamoDBClient, prefix: string): Promise<void> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const out = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    names.push(...(out.TableNames ?? []).filter((name) => name.startsWith(prefix)));
    start = out.LastEvaluatedTableName;
  } while (start !== undefined);
  for (const name of names) await client.send(new DeleteTableCommand({ TableName: name }));
}

/**
 * Every row's items written with plain BatchWriteItem, `concurrency` requests in flight; the rows are read ahead
 * (a bounded queue of batches) so the writes are the limit. Stops after `limit` rows when given.
 */
async function rawWrite(
  mysql: MysqlExecutor,
  codec: Codec,
  client: DynamoDBClient,
  prefix: string,
  concurrency: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ rows: number; items: number; seconds: number; readSeconds: number }> {
  const source = new SourceRows(mysql, codec);
  const dynamodb = new DynamoEntityStore(client, codec, { tablePrefix: prefix });
  const queue: Array<{ table: string; requests: WriteRequest[] }> = [];
  const waiting: Array<() => void> = [];
  let produced = false;
  let rows = 0;
  let items = 0;
  let readMs = 0;
  const started = performance.now();
  const wake = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  const producer = (async () => {
    try {
      for (const entity of codec.entities) {
        const entityCodec = codec.entity(entity);
        const table = dynamodb.tableName(entity);
        let after: EntityValue | undefined;
        while (rows < limit) {
          while (queue.length > concurrency * 8) await new Promise<void>((resolve) => waiting.push(resolve));
          const t = performance.now();
          const reads = await source.page({ entity }, { after, limit: PAGE_ROWS });
          const last = reads.at(-1);
          if (last === undefined) break;
          after = last.key;
          const values = reads.flatMap((read) => ("value" in read ? [read.value] : []));
          if (values.length !== reads.length) throw new Error(`raw: ${entity} has rows the codec cannot read`);
          const filled = await source.withCopies(entity, values);
          const pageItems: Array<Record<string, AttributeValue>> = [];
          for (const value of filled) {
            const mapped = entityItems(entityCodec, value);
            pageItems.push(mapped.item, ...mapped.markers.map((marker) => marker.item));
          }
          readMs += performance.now() - t;
          rows += reads.length;
          items += pageItems.length;
          for (let i = 0; i < pageItems.length; i += BATCH) {
            queue.push({
              table,
              requests: pageItems.slice(i, i + BATCH).map((Item) => ({ PutRequest: { Item } })),
            });
          }
          wake();
          if (reads.length < PAGE_ROWS) break;
        }
      }
    } finally {
      produced = true;
      wake();
    }
  })();
  const consumer = async () => {
    const waitForWork = () => new Promise<void>((resolve) => waiting.push(resolve));
    for (;;) {
      const batch = queue.shift();
      if (batch === undefined) {
        if (produced) return;
        await waitForWork();
        continue;
      }
      wake();
      let pending = batch.requests;
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 1)
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2_000, 25 * 2 ** attempt)));
        try {
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [batch.table]: pending } }));
          pending = out.UnprocessedItems?.[batch.table] ?? [];
        } catch (error) {
          // As BulkWriter does: DynamoDB's own trouble and throttling are tried again, a bad request is not.
          if ((error as { $fault?: string }).$fault !== "server" || attempt > 20) throw error;
          say(`raw: ${describeError(error)}; trying again`);
        }
        if (attempt > 20) throw new Error(`raw: ${pending.length} items still unprocessed after ${attempt} tries`);
      }
    }
  };
  await Promise.all([producer, ...Array.from({ length: concurrency }, consumer)]);
  return { rows, items, seconds: (performance.now() - started) / 1000, readSeconds: readMs / 1000 };
}

/**
 * Each entity's items in DynamoDB under `prefix` against its rows in MySQL; throws when one differs. Markers (items
 * with no `__entity`) are counted, not checked.
 */
async function checkCounts(
  mysql: MysqlExecutor,
  codec: Codec,
  client: DynamoDBClient,
  prefix: string,
): Promise<{ items: number; markers: number; entities: Record<string, number> }> {
  const dynamodb = new DynamoEntityStore(client, codec, { tablePrefix: prefix });
  const tables = [...new Set(codec.entities.map((entity) => dynamodb.tableName(entity)))];
  const counted = new Map<string, number>();
  let items = 0;
  let markers = 0;
  for (const table of tables) {
    // As validation does: segments of about a page each (DynamoDB Local sorts a whole segment for every page).
    const described = await client.send(new DescribeTableCommand({ TableName: table }));
    const segments = scanSegments(COUNT_SCANS_IN_FLIGHT, 1, Math.random, described.Table?.ItemCount ?? 0);
    const limit = pLimit(COUNT_SCANS_IN_FLIGHT);
    await Promise.all(
      segments.chosen.map((segment) =>
        limit(async () => {
          let start: Record<string, AttributeValue> | undefined;
          do {
            const out = await client.send(
              new ScanCommand({
                TableName: table,
                Segment: segment,
                TotalSegments: segments.total,
                ProjectionExpression: "#e",
                ExpressionAttributeNames: { "#e": ENTITY_ATTRIBUTE },
                ExclusiveStartKey: start,
              }),
            );
            for (const item of out.Items ?? []) {
              items++;
              const entity = item[ENTITY_ATTRIBUTE]?.S;
              if (entity === undefined) markers++;
              else counted.set(entity, (counted.get(entity) ?? 0) + 1);
            }
            start = out.LastEvaluatedKey;
          } while (start !== undefined);
        }),
      ),
    );
  }
  const entities: Record<string, number> = {};
  const wrong: string[] = [];
  for (const entity of codec.entities) {
    const [result] = await mysql.query({ sql: `SELECT COUNT(*) AS n FROM ${entityKey(codec, entity).table}` });
    const inMysql = Number((result as Array<{ n: number | string }>)[0]?.n ?? 0);
    const inDynamo = counted.get(entity) ?? 0;
    entities[entity] = inDynamo;
    if (inMysql !== inDynamo) wrong.push(`${entity}: MySQL ${inMysql} rows, DynamoDB ${inDynamo} items`);
  }
  if (wrong.length > 0) throw new Error(`${prefix}: the counts differ: ${wrong.join("; ")}`);
  say(`${prefix}: counts agree (${items} items, ${markers} markers): ${JSON.stringify(entities)}`);
  return { items, markers, entities };
}

/** What a backfill child prints as its last line. */
interface ChildReport {
  written: number;
  skipped: number;
  resynced: number;
  rejected: number;
  pages: number;
  seconds: number;
  startedAt: number;
  endedAt: number;
  maxRssKb: number;
  profile: Record<string, number>;
}

interface ChildInput {
  mysqlUrl: string;
  endpoint: string;
  tablePrefix: string;
  worker: string;
}

/** `count` backfill workers on `prefix` at once, each its own process; their reports. */
async function children(input: RunInput, prefix: string, count: number): Promise<ChildReport[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const args: ChildInput = {
        mysqlUrl: input.mysqlUrl,
        endpoint: input.endpoint,
        tablePrefix: prefix,
        worker: `bench-${prefix}${i}`,
      };
      return new Promise<ChildReport>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", thisFile, "--child", JSON.stringify(args)], {
          cwd: root,
          stdio: ["ignore", "pipe", "inherit"],
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
        });
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.on("error", reject);
        child.on("close", (code) => {
          const last = out.trim().split("\n").at(-1) ?? "";
          if (code !== 0)
            return reject(new Error(`backfill child ${args.worker} exited with ${code}: ${out.slice(-2000)}`));
          try {
            resolve(JSON.parse(last) as ChildReport);
          } catch {
            reject(new Error(`backfill child ${args.worker} printed no report: ${out.slice(-2000)}`));
          }
        });
      });
    }),
  );
}

/**
 * The child: runBackfill on its prefix, each step of a page timed (by wrapping the methods it calls), then its
 * report as JSON on the last line of stdout, peak RSS included.
 */
async function child(input: ChildInput): Promise<void> {
  const profile: Record<string, number> = {};
  const timed = (proto: object, method: string, label: string) => {
    const target = proto as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = target[method];
    if (typeof original !== "function") throw new Error(`no method ${method} to time`);
    target[method] = async function (this: unknown, ...args: unknown[]) {
      const t = performance.now();
      try {
        return await original.apply(this, args);
      } finally {
        profile[label] = (profile[label] ?? 0) + (performance.now() - t);
        profile[`${label} calls`] = (profile[`${label} calls`] ?? 0) + 1;
      }
    };
  };
  timed(SourceRows.prototype, "page", "mysql page read");
  timed(SourceRows.prototype, "withCopies", "withCopies");
  timed(SourceRows.prototype, "byKeys", "mysql by keys");
  timed(BackfillPage.prototype, "write", "page write");
  timed(BackfillPage.prototype, "storedItems", "batch get");
  timed(BulkWriter.prototype, "put", "bulk write");
  timed(KeySync.prototype, "sync", "re-sync");
  let pages = 0;
  const pool = createMysqlPool(input.mysqlUrl, { connectionLimit: 4 });
  const client = dynamoDbClient(input.endpoint);
  try {
    const startedAt = Date.now();
    const started = performance.now();
    const result = await runBackfill(
      { codec: createCodec(contract), mysql: pool, client, tablePrefix: input.tablePrefix },
      {
        contract: CONTRACT,
        who: "bench",
        worker: input.worker,
        pageRows: PAGE_ROWS,
        onPage: () => {
          pages++;
        },
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const report: ChildReport = {
      written: result.written,
      skipped: result.skipped,
      resynced: result.resynced,
      rejected: result.rejected,
      pages,
      seconds,
      startedAt,
      endedAt: Date.now(),
      maxRssKb: process.resourceUsage().maxRSS,
      profile,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    client.destroy();
    await pool.end();
  }
}

/** The steps of the backfill's pages as shares of its time (the page steps are sequential within a worker). */
function describeProfile(profile: Record<string, number>, seconds: number): string {
  const ms = (label: string) => profile[label] ?? 0;
  // byKeys serves withCopies (the sources' rows) and the re-read: the re-read is what withCopies did not spend.
  const reread = Math.max(0, ms("mysql by keys") - ms("withCopies"));
  const markers = ms("page write") - ms("withCopies") - ms("batch get") - ms("bulk write") - reread - ms("re-sync");
  const parts: Array<[string, number]> = [
    ["MySQL page read", ms("mysql page read")],
    ["withCopies", ms("withCopies")],
    ["BatchGetItem (items there already)", ms("batch get")],
    ["mapping and the rest of the page", Math.max(0, markers)],
    ["BatchWriteItem", ms("bulk write")],
    ["re-read (MySQL by keys)", reread],
    ["re-sync", ms("re-sync")],
  ];
  const total = seconds * 1000;
  // Pages run several at a time, so these are sums over overlapping pages (shares of one worker's time can pass 100%).
  return `summed over pages in flight, which overlap: ${parts.map(([name, t]) => `${name} ${(t / 1000).toFixed(1)} s (${((100 * t) / total).toFixed(0)}%)`).join(", ")}`;
}

/**
 * A live write load through the generated repositories over a phase-2 router (MySQL, then DynamoDB): `writers`
 * loops creating, updating and deleting carts, changing users' names and emails and products' prices.
 */
class LiveLoad {
  private readonly store: Store;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private started = 0;
  private readonly result = {
    ops: 0,
    errors: 0,
    refused: 0,
    secondaryFailures: 0,
    firstError: undefined as string | undefined,
    byKind: {} as Record<string, number>,
  };

  constructor(
    mysql: MysqlExecutor,
    client: DynamoDBClient,
    tablePrefix: string,
    private readonly plan: ReturnType<typeof planFor>,
    private readonly writers: number,
  ) {
    this.store = createStore({
      phase: new FixedPhase(2),
      mysql,
      dynamodb: client,
      tablePrefix,
      onSecondaryFailure: (failure) => {
        this.result.secondaryFailures++;
        this.result.firstError ??= `secondary: ${describeError((failure as { error?: unknown }).error ?? failure)}`;
      },
    });
  }

  start(): void {
    this.started = performance.now();
    this.loops = Array.from({ length: this.writers }, (_, i) => this.loop(i));
  }

  async stop() {
    this.stopped = true;
    await Promise.all(this.loops);
    return { ...this.result, seconds: (performance.now() - this.started) / 1000 };
  }

  private async loop(writer: number): Promise<void> {
    const carts: Array<{ id: bigint; userId: bigint; productId: bigint }> = [];
    let n = 0;
    const pick = (max: number) => BigInt(1 + Math.floor(Math.random() * max));
    while (!this.stopped) {
      n++;
      const dice = Math.random();
      let kind: string;
      try {
        if (dice < 0.3 || (dice < 0.65 && carts.length === 0)) {
          kind = "cart create";
          const cart = await this.store.shoppingCarts.create({
            userId: pick(this.plan.users),
            productId: pick(this.plan.products),
            quantity: 1,
          });
          carts.push({ id: cart.id, userId: cart.userId, productId: cart.productId });
        } else if (dice < 0.5) {
          kind = "cart update";
          const cart = carts[Math.floor(Math.random() * carts.length)];
          if (cart) await this.store.shoppingCarts.update(cart, { quantity: 1 + (n % 9) });
        } else if (dice < 0.65) {
          kind = "cart delete";
          const cart = carts.splice(Math.floor(Math.random() * carts.length), 1)[0];
          if (cart) await this.store.shoppingCarts.delete(cart);
        } else if (dice < 0.8) {
          kind = "user profile";
          await this.store.users.update({ id: pick(this.plan.users) }, { firstName: `Live ${writer}.${n}` });
        } else if (dice < 0.9) {
          kind = "user email";
          await this.store.users.update({ id: pick(this.plan.users) }, { email: `live_${writer}_${n}@bench.example` });
        } else {
          kind = "product price";
          await this.store.products.update(
            { id: pick(this.plan.products) },
            { price: `${1 + (n % 500)}.${String(n % 100).padStart(2, "0")}` },
          );
        }
        this.result.ops++;
        this.result.byKind[kind] = (this.result.byKind[kind] ?? 0) + 1;
      } catch (error) {
        if ((error as { name?: string }).name === "UniqueViolation") {
          this.result.refused++;
          continue;
        }
        this.result.errors++;
        this.result.firstError ??= describeError(error);
      }
    }
  }
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const at = process.argv.indexOf("--child");
  const json = at >= 0 ? process.argv[at + 1] : undefined;
  if (json === undefined) {
    console.error("usage: pnpm bench backfill [--rows N]; --child is for the bench itself");
    process.exit(1);
  }
  await child(JSON.parse(json) as ChildInput);
}
