/**
 * `pnpm bench store [--seconds N] [--connections N] [--warm N] [--rate N]`: the store app under load from a second
 * process (autocannon, bench/load/autocannon-child.mjs) on loopback, in phases 1, 3 and 5 of one run, for the product
 * page, a category's listing and add-to-cart (the API's POST /api/cart, each followed by the DELETE that empties the
 * line again, so the stock check never refuses; each connection is a shopper of its own). The demo data is seeded
 * into a private MariaDB, backfilled into DynamoDB Local, and the same store process serves every phase (the phase
 * moves under it). Two runs per endpoint and phase:
 *
 * - throughput: `--connections` connections as fast as the store answers: requests/s;
 * - latency: one request every 1/`--rate` s (a load every phase sustains, well under any saturation; an open loop from
 *   bench/load/paced-child.mjs, since autocannon's own rate limit sends each second's share in one burst): p50 and
 *   p99, so that the latency is the request's own and not the queue a saturated machine builds.
 *
 * Goals (the issue's): phase 5 requests/s >= 0.8 x phase 1 (throughput runs), and phase 3 p50 <= 1.15 x phase 1
 * (latency runs), for each endpoint.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { applyTables, createCodec, type Phase, PhaseStore, runBackfill } from "@ferry/runtime";
import { createMysqlPool, describeError, dynamoDbClient, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { type RunningStore, startStoreServer } from "@ferry/store-web";
import { type Goal, publish, type Row } from "./report.ts";

const here = dirname(fileURLToPath(import.meta.url));
const AUTOCANNON = join(here, "load", "autocannon-child.mjs");
const PACED = join(here, "load", "paced-child.mjs");
const DATABASE = "ferry_bench_store";
const PHASES: Phase[] = [1, 3, 5];
const RPS_GOAL = 0.8;
const P50_GOAL = 1.15;
/** The pause between a flat-out run and a run at a fixed rate. */
const SETTLE_MS = 2_000;

interface Load {
  requestsPerSecond: number;
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface Endpoint {
  name: string;
  /** autocannon options besides url, duration and connections. */
  options: Record<string, unknown>;
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs a load child (`script`, given `config` as JSON) and reads the figures it prints. */
function runChild(script: string, config: Record<string, unknown>): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`the load process exited with ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Load);
    });
  });
}

/** autocannon in a child process against `url`, `connections` connections as fast as the store answers. */
function load(url: string, seconds: number, connections: number, endpoint: Endpoint): Promise<Load> {
  return runChild(AUTOCANNON, { url, duration: seconds, connections, ...endpoint.options });
}

/** Requests at a fixed interval, `rate` per second, from a child process (bench/load/paced-child.mjs). */
function paced(url: string, seconds: number, rate: number, endpoint: Endpoint): Promise<Load> {
  const { path, requests, sessions, headers } = endpoint.options as {
    path?: string;
    requests?: unknown[];
    sessions?: unknown[];
    headers?: Record<string, string>;
  };
  return runChild(PACED, {
    url,
    rate,
    seconds,
    warm: 1,
    requests: requests ?? [{ method: "GET", path }],
    sessions,
    headers,
  });
}

/** The store calls the running store has made so far, by store (its /metrics: ferry_store_request_seconds_count). */
async function storeCalls(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const calls = new Map<string, number>();
  for (const match of text.matchAll(/^ferry_store_request_seconds_count\{store="(\w+)",[^}]*\} (\d+)$/gm)) {
    const [, store = "", count = "0"] = match;
    calls.set(store, (calls.get(store) ?? 0) + Number(count));
  }
  return calls;
}

/** The running store's shadow-read counters so far (ferry_shadow_<name>_total, summed over entities). */
async function shadowCounts(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^ferry_shadow_(\w+)_total(?:\{[^}]*\})? (\d+)$/gm)) {
    const [, name = "", count = "0"] = match;
    counts.set(name, (counts.get(name) ?? 0) + Number(count));
  }
  return counts;
}

/** A shopper's session on the running store: its cookie and form token. */
async function session(url: string): Promise<{ cookie: string; csrf: string }> {
  const first = await fetch(`${url}/api/session`);
  const cookie = first.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const { csrf } = (await first.json()) as { csrf: string };
  const name = `bench_${Date.now().toString(36)}`;
  const made = await fetch(`${url}/api/users`, {
    method: "POST",
    headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
    body: JSON.stringify({
      username: name,
      email: `${name}@example.com`,
      password: "bench password",
      firstName: "Bench",
    }),
  });
  if (made.status !== 201) throw new Error(`registering the bench's shopper answered ${made.status}`);
  const loggedIn = made.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const body = (await made.json()) as { csrf: string };
  return { cookie: loggedIn, csrf: body.csrf };
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: "string", default: "10" },
      connections: { type: "string", default: "16" },
      warm: { type: "string", default: "3" },
      rate: { type: "string", default: "40" },
    },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const warm = Number(values.warm);
  const rate = Number(values.rate);
  for (const [name, value] of [
    ["--seconds", seconds],
    ["--connections", connections],
    ["--warm", warm],
    ["--rate", rate],
  ] as const) {
    if (!Number.isInteger(value) || value < (name === "--warm" ? 0 : 1)) {
      throw new Error(`${name} must be a whole number${name === "--warm" ? "" : " from 1"}; got ${value}`);
    }
  }
  const home = mkdtempSync(join(tmpdir(), "ferry-bench-store-"));
  let store: RunningStore | undefined;
  try {
    const state = await stackUp({ home, onProgress: say });
    const serverUrl = state.mysql?.url;
    const endpoint = state.dynamodb?.url;
    if (!serverUrl || !endpoint) throw new Error("the private stack did not come up");
    const mysqlUrl = withDatabase(serverUrl, DATABASE);
    say("seeding the demo data, applying the tables ...");
    await seedStore({ mysqlUrl, plan: { kind: "demo" } });
    const client = dynamoDbClient(endpoint);
    const pool = createMysqlPool(mysqlUrl, { connectionLimit: 4 });
    try {
      await applyTables(client, contract, { prefix: "" });
      const phases = new PhaseStore(client, { tablePrefix: "" });
      const move = async (to: Phase) => {
        let current = (await phases.get()).phase;
        while (current !== to) {
          const next = (current < to ? current + 1 : current - 1) as Phase;
          current = (
            await phases.set(next, { who: "bench", reason: "pnpm bench store", force: true, confirm: next === 5 })
          ).phase;
        }
        await store?.fleet.phase.refresh();
      };
      // The migration's own order: the store starts on MySQL alone (phase 1), the backfill runs once it dual-writes
      // (phase 2), and the phase moves on under the running store.
      store = await startStoreServer({
        mysqlUrl,
        dynamodbEndpoint: endpoint,
        tablePrefix: "",
        loginLimits: { perAccount: 1_000, perAddress: 1_000_000, windowMs: 60_000 },
        log: (message, error) => say(`store: ${message} ${error === undefined ? "" : describeError(error)}`),
      });
      const backfill = async () => {
        const run = await runBackfill(
          { codec: createCodec(contract), mysql: pool, client, tablePrefix: "" },
          { contract: "store.yaml", who: "bench" },
        );
        if (run.report.state !== "finished") throw new Error(`the backfill ended ${run.report.state}`);
      };
      const url = store.url;
      // One shopper per connection, so that no two connections race for one cart line.
      const shoppers = [];
      for (let i = 0; i < connections; i++) shoppers.push(await session(url));
      const tree = (await (await fetch(`${url}/api/categories`)).json()) as {
        categories: Array<{ id: string; children: Array<{ id: string }> }>;
      };
      const leaf = tree.categories.flatMap((root) => root.children)[0];
      if (leaf === undefined) throw new Error("the demo data has no child category");
      const listing = (await (await fetch(`${url}/api/categories/${leaf.id}/products?limit=24`)).json()) as {
        items: Array<{ id: string; inventoryQuantity: number }>;
      };
      const product = listing.items.find((item) => item.inventoryQuantity > 5);
      if (product === undefined) throw new Error("no product in stock in the first child category");
      const endpoints: Endpoint[] = [
        { name: "product page", options: { path: `/products/${product.id}` } },
        { name: "category listing (API)", options: { path: `/api/categories/${leaf.id}/products?limit=24` } },
        {
          name: "add to cart (API, + remove)",
          options: {
            headers: { "content-type": "application/json" },
            sessions: shoppers.map(({ cookie, csrf }) => ({ cookie, "x-csrf-token": csrf })),
            requests: [
              { method: "POST", path: "/api/cart", body: JSON.stringify({ productId: product.id, quantity: 1 }) },
              { method: "DELETE", path: `/api/cart/${product.id}` },
            ],
          },
        },
      ];
      const rows: Row[] = [];
      const shadowNotes: string[] = [];
      const measured = new Map<string, Load>();
      for (const phase of PHASES) {
        if (phase > 1 && (await phases.get()).phase === 1) {
          await move(2);
          say("backfilling (phase 2) ...");
          await backfill();
        }
        await move(phase);
        say(`phase ${phase} (the store routes by phase ${store.fleet.phase.phase()})`);
        const shadowBefore = await shadowCounts(url);
        for (const target of endpoints) {
          if (warm > 0) await load(url, warm, connections, target);
          // At a fixed interval: each request's own latency, measured first, once the warm-up's backlog (DynamoDB
          // Local's queue, the shadow reads it left) has drained.
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          const latency = await paced(url, seconds, rate, target);
          const before = await storeCalls(url);
          const cpuBefore = process.cpuUsage();
          const result = await load(url, seconds, connections, target);
          const cpu = process.cpuUsage(cpuBefore);
          const after = await storeCalls(url);
          const perRequest = (store: string) =>
            result.requests === 0 ? 0 : ((after.get(store) ?? 0) - (before.get(store) ?? 0)) / result.requests;
          measured.set(`${phase}:${target.name}`, result);
          measured.set(`${phase}:${target.name}:latency`, latency);
          say(
            `  ${target.name}: ${Math.round(result.requestsPerSecond)} requests/s; at ${rate}/s p50 ${latency.p50} ms`,
          );
          rows.push({
            phase,
            endpoint: target.name,
            "requests/s": Math.round(result.requestsPerSecond),
            [`p50 ms at ${rate}/s`]: latency.p50,
            [`p99 ms at ${rate}/s`]: latency.p99,
            "p50 ms flat out": result.p50,
            "MySQL calls/req": Math.round(perRequest("mysql") * 100) / 100,
            "DynamoDB calls/req": Math.round(perRequest("dynamodb") * 100) / 100,
            "store CPU µs/req": result.requests === 0 ? 0 : Math.round((cpu.user + cpu.system) / result.requests),
            requests: result.requests + latency.requests,
            "non-2xx": result.non2xx + latency.non2xx,
            errors: result.errors + result.timeouts + latency.errors + latency.timeouts,
          });
        }
        if (phase === 3) {
          const after = await shadowCounts(url);
          const delta = (name: string) => (after.get(name) ?? 0) - (shadowBefore.get(name) ?? 0);
          shadowNotes.push(
            `phase 3 shadow reads: ${delta("comparisons")} compared, ${delta("mismatches")} mismatched, ${delta("errors")} errors, ${delta("timeouts")} timeouts, ${delta("skipped")} skipped`,
          );
        }
      }
      const goals: Goal[] = [];
      const notes: string[] = [...shadowNotes];
      for (const target of endpoints) {
        const one = measured.get(`1:${target.name}`) as Load;
        const five = measured.get(`5:${target.name}`) as Load;
        const oneLatency = measured.get(`1:${target.name}:latency`) as Load;
        const threeLatency = measured.get(`3:${target.name}:latency`) as Load;
        const rps = five.requestsPerSecond / one.requestsPerSecond;
        const p50 = threeLatency.p50 / Math.max(oneLatency.p50, 0.01);
        goals.push(
          {
            figure: `${target.name}: phase 5 requests/s, of phase 1's`,
            value: rps,
            unit: "x",
            op: ">=",
            bound: RPS_GOAL,
            baseline: `phase 1: ${Math.round(one.requestsPerSecond).toLocaleString("en-US")} requests/s`,
          },
          {
            figure: `${target.name}: phase 3 p50 at ${rate}/s, of phase 1's`,
            value: p50,
            unit: "x",
            op: "<=",
            bound: P50_GOAL,
            baseline: `phase 1: p50 ${oneLatency.p50} ms`,
          },
        );
      }
      const failed = [...measured.values()].reduce((sum, m) => sum + m.non2xx + m.errors + m.timeouts, 0);
      goals.push({ figure: "requests not answered 2xx", value: failed, op: "=", bound: 0 });
      notes.push(
        `autocannon in a second process; throughput: ${connections} connections, ${seconds} s per endpoint after ${warm} s of warm-up; latency: one request every ${(1000 / rate).toFixed(1)} ms (${rate}/s, an open loop from a second process: bench/load/paced-child.mjs), ${seconds} s after 1 s of warm-up; one store process on loopback`,
        "latencies in fractional ms, 2xx only: autocannon's response events (throughput runs), send-to-last-byte (latency runs); the p50 goal compares the runs at a fixed interval, not the flat-out runs, whose p50 is the queue of a saturated machine (shown, not judged); autocannon's own fixed rate sends each second's share in one burst, which measures that burst's queue",
        "store CPU µs/req: the CPU time of the store's process (this one: the load runs in another) during the throughput run, per request answered; where phase 5 spends more than phase 1, the difference is the client's cost of its calls (the AWS SDK's per call against mysql2's per query)",
        "calls/req: the store's own count of MySQL and DynamoDB calls (its /metrics) during the throughput run, per request answered (shadow reads included)",
        "add to cart: each POST /api/cart is followed by DELETE of the line (autocannon's request sequence), both counted; each connection is a shopper of its own",
        `one private MariaDB and one DynamoDB Local (in memory) on this machine (${(await phases.get()).phase === 5 ? "ended in phase 5" : "phase left as is"}); the demo data set`,
      );
      publish({ name: "store", rows, goals, notes });
    } finally {
      await store?.close().catch((error: unknown) => say(`store close: ${describeError(error)}`));
      await pool.end();
      client.destroy();
    }
  } finally {
    await stackDown({ home }).catch((error: unknown) => say(`stack down: ${describeError(error)}`));
    rmSync(home, { recursive: true, force: true });
  }
}
