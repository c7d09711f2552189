/**
 * `pnpm bench seed [--users N --products N --orders N --seed S --connections N]`: how fast
 * `seedStore` fills the store's MySQL database with the synthetic data set (default 100k users,
 * 20k products, 1M orders and their ~2.5M items), against the server's own ceiling measured in the
 * same run: `INSERT ... SELECT` from MariaDB's sequence engine into a copy of `order_items`, the
 * fastest the server can write rows of that shape with no client in the way.
 *
 * MySQL comes from MYSQL_URL, else a private MariaDB is started for the run (and stopped after).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connectMysql, describeError, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { migrateStore, type SeedProgress, STORE_TABLES, seedStore } from "@ferry/store";
import { publish, type Row } from "./report.ts";

type Connection = Awaited<ReturnType<typeof connectMysql>>;
type Rows = Array<Record<string, unknown>>;

const DATABASE = "bench_seed";
const GOAL_ROWS_PER_SECOND = 100_000;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      users: { type: "string", default: "100000" },
      products: { type: "string", default: "20000" },
      orders: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
      connections: { type: "string", default: "3" },
    },
  });
  const plan = {
    kind: "synthetic" as const,
    users: Number(values.users),
    products: Number(values.products),
    orders: Number(values.orders),
    seed: Number(values.seed),
  };
  const connections = Number(values.connections);

  let home: string | undefined;
  let serverUrl = process.env.MYSQL_URL || undefined;
  try {
    if (!serverUrl) {
      home = mkdtempSync(join(tmpdir(), "ferry-bench-seed-"));
      process.stderr.write("starting a private MariaDB ...\n");
      const state = await stackUp({ home, parts: ["mysql"] });
      serverUrl = state.mysql?.url;
      if (!serverUrl) throw new Error("the private MariaDB did not come up");
    }
    serverUrl = withDatabase(serverUrl, undefined);
    await run(serverUrl, plan, connections, home === undefined);
  } finally {
    if (home) {
      await stackDown({ home }).catch((error: unknown) =>
        process.stderr.write(`stack down: ${describeError(error)}\n`),
      );
      rmSync(home, { recursive: true, force: true });
    }
  }
}

async function run(
  serverUrl: string,
  plan: { kind: "synthetic"; users: number; products: number; orders: number; seed: number },
  connections: number,
  outside: boolean,
): Promise<void> {
  const admin = await connectMysql(serverUrl);
  const dropDatabase = () => admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(DATABASE)}`);
  try {
    await dropDatabase();
    const server = await serverFacts(admin);

    const progress = new ProgressLine();
    const result = await seedStore({
      mysqlUrl: withDatabase(serverUrl, DATABASE),
      plan,
      connections,
      onProgress: (p) => progress.update(p),
    }).finally(() => progress.end());
    const seeded = Object.values(result.rows).reduce((a, b) => a + b, 0);
    const seedRate = seeded / result.seconds;
    // A dropped table's pages leave the buffer pool unwritten: the ceiling starts as clean as the seed did.
    await dropDatabase();

    const ceilings: Ceiling[] = [];
    if (server.sequenceEngine) {
      for (const [label, step] of [
        ["1 statement", seeded],
        ["100k rows/statement", 100_000],
      ] as const) {
        process.stderr.write(
          `measuring the server's ceiling (${label}) with ${seeded.toLocaleString("en-US")} rows ...\n`,
        );
        await admin.query(`CREATE DATABASE ${admin.escapeId(DATABASE)}`);
        ceilings.push({ label, ...(await measureCeiling(serverUrl, seeded, step)) });
        await dropDatabase();
      }
    }
    const best = Math.max(0, ...ceilings.map((c) => c.rate));

    const rows: Row[] = STORE_TABLES.map((table) => ({
      measure: table,
      rows: result.rows[table] ?? 0,
      seconds: null,
      "rows/s": null,
      "of ceiling": null,
    }));
    rows.push({
      measure: `seedStore, all tables (${connections} conn)`,
      rows: seeded,
      seconds: result.seconds,
      "rows/s": Math.round(seedRate),
      "of ceiling": best > 0 ? seedRate / best : null,
    });
    for (const ceiling of ceilings) {
      rows.push({
        measure: `ceiling: server INSERT..SELECT, ${ceiling.label}`,
        rows: ceiling.rows,
        seconds: ceiling.seconds,
        "rows/s": Math.round(ceiling.rate),
        "of ceiling": ceiling.rate / best,
      });
    }
    publish({
      name: "seed",
      rows,
      goals: [
        {
          figure: "seedStore rows/s",
          value: seedRate,
          unit: "rows/s",
          op: ">=",
          bound: GOAL_ROWS_PER_SECOND,
          ...(best > 0
            ? { baseline: `the server's own INSERT..SELECT: ${Math.round(best).toLocaleString("en-US")} rows/s` }
            : {}),
        },
      ],
      notes: [
        `synthetic plan: users ${plan.users}, products ${plan.products}, orders ${plan.orders}, seed ${plan.seed}`,
        `server: ${server.version}${outside ? " (MYSQL_URL)" : " (private, started for this run)"}, buffer pool ${server.bufferPoolMiB} MiB, local_infile ${server.localInfile ? "on: LOAD DATA LOCAL, one streamed statement per table" : "off: multi-row INSERTs"}`,
        "seedStore seconds include creating the database, migrating, and hashing the one shared password",
        ceilings.length > 0
          ? "ceiling: the same number of rows made by the server itself (sequence engine) into a copy of order_items (same keys), FK/unique checks off; 'of ceiling' is against the faster one"
          : "ceiling: not measured (needs MariaDB's sequence engine)",
      ],
    });
  } finally {
    await dropDatabase().catch(() => undefined);
    await admin.end();
  }
}

interface Ceiling {
  label: string;
  rows: number;
  seconds: number;
  rate: number;
}

async function serverFacts(connection: Connection) {
  const [rows] = await connection.query(
    "SELECT VERSION() AS version, @@GLOBAL.local_infile AS local_infile, @@GLOBAL.innodb_buffer_pool_size AS pool",
  );
  const row = (rows as Rows)[0] ?? {};
  const [engines] = await connection.query(
    "SELECT COUNT(*) AS n FROM information_schema.engines WHERE engine = 'SEQUENCE' AND support IN ('YES', 'DEFAULT')",
  );
  const sequenceEngine = Number((engines as Rows)[0]?.n) > 0;
  return {
    version: String(row.version),
    localInfile: Number(row.local_infile) === 1,
    bufferPoolMiB: Math.round(Number(row.pool) / 2 ** 20),
    sequenceEngine,
  };
}

/**
 * The server writing `total` rows shaped like order_items into a copy of that table, `step` rows
 * per statement, as fast as it can: nothing crosses the network. One statement into an empty
 * table takes MariaDB's bulk path (indexes built by sorting), as seedStore's LOAD DATA does.
 */
async function measureCeiling(serverUrl: string, total: number, step: number) {
  const session = await connectMysql(withDatabase(serverUrl, DATABASE));
  try {
    await migrateStore(session);
    await session.query("SET SESSION foreign_key_checks = 0, unique_checks = 0");
    await session.query("CREATE TABLE bench_ceiling LIKE order_items");
    const started = performance.now();
    for (let from = 1; from <= total; from += step) {
      const to = Math.min(total, from + step - 1);
      await session.query(
        `INSERT INTO bench_ceiling (id, order_id, product_id, quantity, price_at_time)
         SELECT seq, (seq + 3) DIV 4, 1 + (seq * 7919) % 20000, 1 + seq % 3, (1 + seq % 50000) / 100
         FROM seq_${from}_to_${to}`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    return { rows: total, seconds, rate: total / seconds };
  } finally {
    await session.end().catch(() => undefined);
  }
}

/** One line on stderr: rows so far of all tables, rows/s; rewritten in place on a terminal. */
class ProgressLine {
  private readonly done = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private readonly started = performance.now();
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  update(p: SeedProgress): void {
    this.done.set(p.table, p.done);
    this.totals.set(p.table, p.total);
    const now = performance.now();
    if (now - this.last < (this.tty ? 200 : 5_000)) return;
    this.last = now;
    this.print();
  }

  end(): void {
    this.print();
    if (this.tty) process.stderr.write("\n");
  }

  private print(): void {
    const done = [...this.done.values()].reduce((a, b) => a + b, 0);
    const total = [...this.totals.values()].reduce((a, b) => a + b, 0);
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const percent = total > 0 ? ((100 * done) / total).toFixed(1) : "0.0";
    const line = `seeding ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} rows (${percent}%), ${rate.toLocaleString("en-US")} rows/s, ${seconds.toFixed(1)} s`;
    process.stderr.write(this.tty ? `\r${line.padEnd(90)}` : `${line}\n`);
  }
}
