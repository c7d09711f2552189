/**
 * `pnpm bench codegen`:
 * 1. generation: a 300-entity contract (analyzed from a synthetic 300-table schema and a workload over
 *    it) through `ferry generate` (handlebars + ts-morph + strict type-check + Biome); goal < 10 s.
 * 2. overhead: the generated repository's GetItem and Query (router -> store -> codec) against the same
 *    calls written directly with the SDK, on DynamoDB Local, interleaved in one run; goal within 10%.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { introspect, proposeContract, readGeneralLogFile } from "@ferry/analyzer";
import { createSyntheticSchema, writeSyntheticGeneralLog } from "@ferry/analyzer/synthetic";
import { generate } from "@ferry/codegen";
import { applyTables, FixedPhase } from "@ferry/runtime";
import { connectMysql, dynamoDbClient, findRepoRoot, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { createStore, contract as storeContract } from "@ferry/store-data";
import { figure, publish } from "./report.ts";
import { interleaved, percentile } from "./timing.ts";

const seconds = (start: number) => (performance.now() - start) / 1000;

export async function main(args: string[]): Promise<void> {
  const rounds = Number(args[args.indexOf("--rounds") + 1]) || 3000;
  const root = findRepoRoot();
  const home = mkdtempSync(join(tmpdir(), "ferry-bench-codegen-"));
  try {
    const state = await stackUp({ home, onProgress: (line) => process.stderr.write(`${line}\n`) });
    const serverUrl = withDatabase(state.mysql?.url ?? "", undefined);
    const endpoint = state.dynamodb?.url ?? "";

    // 1. A 300-entity contract, as the analyzer makes it.
    const admin = await connectMysql(serverUrl, { multipleStatements: true });
    await admin.query("CREATE DATABASE bench_codegen CHARACTER SET utf8mb4");
    await admin.changeUser({ database: "bench_codegen" });
    await createSyntheticSchema(admin, { tables: 300, seed: 1 });
    const facts = await introspect(admin, "bench_codegen");
    const log = join(home, "general.log");
    writeSyntheticGeneralLog(log, {
      statements: 20_000,
      tables: facts.tables.map((t) => t.name),
      seed: 1,
      database: "bench_codegen",
    });
    const workload = await readGeneralLogFile(log, { database: "bench_codegen" });
    const big = proposeContract(facts, workload, { name: "bench" }).contract;
    await admin.end();
    process.stderr.write(`generating ${Object.keys(big.entities).length} entities ...\n`);
    const start = performance.now();
    const files = generate(big, {
      contractPath: "contract/bench.yaml",
      outDir: relative(root, join(home, "bench-data")),
      root,
    });
    const generateSeconds = seconds(start);
    const bytes = [...files.values()].reduce((sum, text) => sum + text.length, 0);

    // 2. Overhead of a generated call over the same SDK call.
    const client = dynamoDbClient(endpoint);
    const prefix = "bench_";
    await applyTables(client, storeContract, { prefix });
    const store = createStore({
      phase: new FixedPhase(5),
      mysql: await connectMysql(serverUrl),
      dynamodb: client,
      tablePrefix: prefix,
      onSecondaryFailure: () => undefined,
    });
    const user = await store.users.create({
      id: 42n,
      username: "bench",
      email: "bench@example.com",
      passwordHash: "scrypt$x",
      firstName: "Bench",
    });
    const table = `${prefix}main`;
    const direct = {
      get: () =>
        client.send(
          new GetItemCommand({
            TableName: table,
            Key: { PK: { S: "USER#00000000000000000042" }, SK: { S: "USER" } },
            ConsistentRead: true,
          }),
        ),
      query: () =>
        client.send(
          new QueryCommand({
            TableName: table,
            IndexName: "GSI1",
            KeyConditionExpression: "#pk = :pk",
            ExpressionAttributeNames: { "#pk": "GSI1PK" },
            ExpressionAttributeValues: { ":pk": { S: "USER#USERNAME#bench" } },
            Limit: 1,
          }),
        ),
    };
    const getTimes = await interleaved(rounds, () => store.users.get({ id: user.id }), direct.get);
    const queryTimes = await interleaved(
      rounds,
      () => store.users.getUserByUsername({ username: "bench" }),
      direct.query,
    );
    client.destroy();

    const row = (name: string, times: { a: number[]; b: number[] }) => ({
      step: name,
      "generated p50 ms": percentile(times.a, 0.5),
      "SDK p50 ms": percentile(times.b, 0.5),
      "p50 ratio": percentile(times.a, 0.5) / percentile(times.b, 0.5),
      "generated p99 ms": percentile(times.a, 0.99),
      "SDK p99 ms": percentile(times.b, 0.99),
    });
    const get = row(`GetItem x${rounds} (users.get)`, getTimes);
    const query = row(`Query GSI1 x${rounds} (getUserByUsername)`, queryTimes);
    publish({
      name: "codegen",
      rows: [
        {
          step: `generate ${Object.keys(big.entities).length} entities, ${Object.keys(big.accessPatterns ?? {}).length} patterns (${(bytes / 2 ** 20).toFixed(1)} MiB of TypeScript)`,
          "generated p50 ms": null,
          "SDK p50 ms": null,
          "p50 ratio": null,
          "generated p99 ms": null,
          "SDK p99 ms": null,
          seconds: generateSeconds,
        },
        { ...get, seconds: null },
        { ...query, seconds: null },
      ],
      goals: [
        { figure: "generating the 300-entity contract", value: generateSeconds, unit: "s", op: "<=", bound: 10 },
        {
          figure: "generated GetItem p50, of the SDK's",
          value: get["p50 ratio"] ?? Number.NaN,
          unit: "x",
          op: "<=",
          bound: 1.1,
          baseline: `the SDK's GetItem: p50 ${figure(Number(get["SDK p50 ms"]), "ms")}`,
        },
        {
          figure: "generated Query p50, of the SDK's",
          value: query["p50 ratio"] ?? Number.NaN,
          unit: "x",
          op: "<=",
          bound: 1.1,
          baseline: `the SDK's Query: p50 ${figure(Number(query["SDK p50 ms"]), "ms")}`,
        },
      ],
      notes: [
        "generated: the repository method through EntityRouter, DynamoEntityStore and the codec (phase 5, DynamoDB reads); SDK: the same GetItem/Query with @aws-sdk/client-dynamodb, result not decoded",
        "calls alternate (ABAB / BABA) after 300 warm-up pairs, on one DynamoDB Local; ratios, not absolute times, are the measure",
      ],
    });
  } finally {
    await stackDown({ home });
    rmSync(home, { recursive: true, force: true });
  }
}
