/**
 * `pnpm bench runtime [--rounds N] [--outage N]`: what the migration costs a request, on the generated store over
 * MariaDB and DynamoDB Local, measured in one run.
 *
 * - Read latency in phase 3 (MySQL served, DynamoDB shadow-read concurrently at sampling 1.0, compared, mismatches
 *   logged) against phase 1 (MySQL only), users.get calls interleaved. Goal: p50 ratio <= 1.15.
 * - Write latency in phase 2 (MySQL, then DynamoDB) against phase 1, users.update calls interleaved (reported).
 * - Outbox drain rate: `--outage` creates while DynamoDB cannot be reached (each recorded in the MySQL outbox), then
 *   the outbox drained into DynamoDB once it can: entries per second, against raw creates on the same DynamoDB.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  applyTables,
  createCodec,
  DynamoEntityStore,
  FixedPhase,
  Metrics,
  MismatchLog,
  MysqlEntityStore,
  Outbox,
  ShadowReader,
} from "@ferry/runtime";
import { createMysqlPool, dynamoDbClient, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { seedStore } from "@ferry/store";
import { contract, createStore, type NewUser } from "@ferry/store-data";
import { figure, publish } from "./report.ts";
import { interleaved, percentile } from "./timing.ts";

const option = (args: string[], name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) || fallback : fallback;
};

const newUser = (tag: string): NewUser => ({
  username: `bench_${tag}`,
  email: `bench_${tag}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Bench",
});

export async function main(args: string[]): Promise<void> {
  const rounds = option(args, "--rounds", 2000);
  const outage = option(args, "--outage", 2000);
  const home = mkdtempSync(join(tmpdir(), "ferry-bench-runtime-"));
  try {
    const state = await stackUp({ home, onProgress: (line) => process.stderr.write(`${line}\n`) });
    const mysqlUrl = withDatabase(state.mysql?.url ?? "", "store");
    const endpoint = state.dynamodb?.url ?? "";
    await seedStore({ mysqlUrl, plan: { kind: "demo" } });
    const client = dynamoDbClient(endpoint);
    const tablePrefix = "bench_";
    await applyTables(client, contract, { prefix: tablePrefix });
    const pool = createMysqlPool(mysqlUrl, { connectionLimit: 8 });
    const codec = createCodec(contract);
    const metrics = new Metrics();
    const mismatches = new MismatchLog(client, { tablePrefix, metrics });
    const shadow = new ShadowReader({
      codec,
      metrics,
      sampleRate: () => 1,
      budgetMs: 100,
      sink: mismatches,
      control: { client, tablePrefix },
    });
    const failures: unknown[] = [];
    // As a FleetMember wires it: each dual write records its intent with the authoritative write (docs/convergence.md).
    const live = new Outbox({
      phase: new FixedPhase(2),
      codec,
      mysql: new MysqlEntityStore(pool, codec),
      dynamodb: new DynamoEntityStore(client, codec, { tablePrefix }),
      mysqlConnection: pool,
      controlTable: { client, tablePrefix },
    });
    const storeIn = (phase: 1 | 2 | 3) =>
      createStore({
        phase: new FixedPhase(phase),
        mysql: pool,
        dynamodb: client,
        tablePrefix,
        onSecondaryFailure: (failure) => failures.push(failure),
        intents: live.intents,
        shadow,
      });
    const [one, two, three] = [storeIn(1), storeIn(2), storeIn(3)];

    // One user on both stores, read and updated by every call.
    const user = await two.users.create(newUser("reader"));
    process.stderr.write(`reads: ${rounds} pairs (phase 3 vs phase 1) ...\n`);
    const reads = await interleaved(
      rounds,
      () => three.users.get({ id: user.id }),
      () => one.users.get({ id: user.id }),
      300,
      // Each call starts on a quiet process: a phase-3 call's shadow read does not spill into the next call.
      () => shadow.idle(),
    );
    await shadow.idle();
    const comparisons = shadow.counters.comparisons.value({ entity: "User" });
    const mismatchCount = shadow.counters.mismatches.value({ entity: "User" });

    process.stderr.write(`writes: ${rounds} pairs (phase 2 vs phase 1) ...\n`);
    let n = 0;
    // On both stores; phase 1's updates leave DynamoDB behind, phase 2's bring it along again.
    const writer = await two.users.create(newUser("writer"));
    const writes = await interleaved(
      rounds,
      () => two.users.update({ id: writer.id }, { firstName: `Two ${++n}` }),
      () => one.users.update({ id: writer.id }, { firstName: `One ${++n}` }),
    );

    await live.intents.removed();
    const leftIntents = (await live.metrics()).dynamodb.depth;

    // An outage: DynamoDB unreachable (a closed port, one attempt per call), writes recorded in the outbox.
    process.stderr.write(`outage: ${outage} creates with DynamoDB unreachable ...\n`);
    const unreachable = new DynamoDBClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: { accessKeyId: "ferry", secretAccessKey: "ferry" },
      maxAttempts: 1,
    });
    const phase = new FixedPhase(2);
    const outbox = new Outbox({
      phase,
      codec,
      mysql: new MysqlEntityStore(pool, codec),
      dynamodb: new DynamoEntityStore(client, codec, { tablePrefix }),
      mysqlConnection: pool,
      controlTable: { client, tablePrefix },
      batch: 500,
      concurrency: 16,
    });
    const during = createStore({
      phase,
      mysql: pool,
      dynamodb: unreachable,
      tablePrefix,
      onSecondaryFailure: outbox.record,
      intents: outbox.intents,
    });
    const outageStart = performance.now();
    for (let i = 0; i < outage; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, outage - i) }, (_, j) => during.users.create(newUser(`outage_${i + j}`))),
      );
    }
    const outageSeconds = (performance.now() - outageStart) / 1000;
    await outbox.flushed();
    const depth = (await outbox.metrics()).dynamodb.depth;

    process.stderr.write(`drain: ${depth} entries ...\n`);
    const drainStart = performance.now();
    let drained = 0;
    for (;;) {
      const pass = await outbox.drain({ limit: 500, force: true });
      drained += pass.synced;
      if (pass.remaining === 0 && pass.synced === 0) break;
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const left = (await outbox.metrics()).dynamodb.depth;

    // The ceiling: the same number of creates straight into DynamoDB through the DynamoDB-only store path.
    const direct = new DynamoEntityStore(client, codec, { tablePrefix });
    const rawStart = performance.now();
    const rawUsers = Array.from({ length: depth }, (_, i) => ({
      ...newUser(`raw_${i}`),
      id: 10_000_000n + BigInt(i),
      lastName: null,
      isSeller: false,
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    }));
    for (let i = 0; i < rawUsers.length; i += 16) {
      await Promise.all(rawUsers.slice(i, i + 16).map((value) => direct.create("User", value)));
    }
    const rawSeconds = (performance.now() - rawStart) / 1000;

    await shadow.stop();
    await mismatches.stop();
    unreachable.destroy();
    client.destroy();
    await pool.end();

    const latency = (name: string, times: { a: number[]; b: number[] }) => ({
      measure: name,
      "p50 ms": percentile(times.a, 0.5),
      "baseline p50 ms": percentile(times.b, 0.5),
      "p50 ratio": percentile(times.a, 0.5) / percentile(times.b, 0.5),
      "p99 ms": percentile(times.a, 0.99),
      "baseline p99 ms": percentile(times.b, 0.99),
      "items/s": null,
    });
    const read = latency(`read x${rounds}: phase 3 (shadow, sampling 1.0) vs phase 1`, reads);
    const write = latency(`write x${rounds}: phase 2 (dual write) vs phase 1`, writes);
    const drainRate = drained / drainSeconds;
    const rawRate = rawUsers.length / rawSeconds;
    publish({
      name: "runtime",
      rows: [
        read,
        write,
        {
          measure: `outbox drain after an outage: ${drained} of ${depth} entries (${left} left)`,
          "p50 ms": null,
          "baseline p50 ms": null,
          "p50 ratio": null,
          "p99 ms": null,
          "baseline p99 ms": null,
          "items/s": drainRate,
        },
        {
          measure: `baseline: ${rawUsers.length} creates straight into DynamoDB (16 at a time)`,
          "p50 ms": null,
          "baseline p50 ms": null,
          "p50 ratio": null,
          "p99 ms": null,
          "baseline p99 ms": null,
          "items/s": rawRate,
        },
      ],
      goals: [
        {
          figure: "phase 3 read p50, of phase 1's",
          value: read["p50 ratio"] ?? Number.NaN,
          unit: "x",
          op: "<=",
          bound: 1.15,
          baseline: `phase 1: p50 ${figure(Number(read["baseline p50 ms"]), "ms")}`,
        },
        { figure: "outbox entries left after the drain", value: left, op: "=", bound: 0 },
        { figure: "outage writes drained, of those made", value: drained, op: ">=", bound: outage },
        { figure: "write intents left once the dual writes settled", value: leftIntents, op: "=", bound: 0 },
      ],
      notes: [
        "phase-2 write: the MySQL write and its intent in one transaction, the copy to DynamoDB, the check (MySQL read), the intent removed in the background",
        `shadow reads: ${comparisons} comparisons, ${mismatchCount} mismatches (the data agree, so 0 is right)`,
        `the outage: ${outage} creates in ${outageSeconds.toFixed(1)} s, every one answered; DynamoDB unreachable, one attempt per call`,
        "drain: each entry re-reads MySQL and creates the item with its unique markers in one TransactWriteItems, 16 keys at a time",
        "calls alternate (ABAB / BABA) after 300 warm-up pairs on one MariaDB and one DynamoDB Local; ratios, not absolute times, are the measure",
        "reads: the timed part is the request; the shadow read it leaves behind finishes (untimed) before the next call, so it is charged to neither side",
      ],
    });
    if (failures.length > 0) throw new Error(`${failures.length} secondary writes failed outside the outage`);
  } finally {
    await stackDown({ home });
    rmSync(home, { recursive: true, force: true });
  }
}
