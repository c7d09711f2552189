/**
 * The second contract (composite keys, an item collection, one attribute of every type) through its
 * GENERATED repositories (test/generated/every-type, committed and checked for staleness like store-data),
 * in every phase, on real MariaDB and DynamoDB Local: what goes in comes back equal from the store that serves
 * reads, and equal on both stores while both are written.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadValidContract } from "@ferry/contract";
import {
  applyTables,
  createCodec,
  DynamoEntityStore,
  FixedPhase,
  MysqlEntityStore,
  type Phase,
  type SecondaryFailure,
} from "@ferry/runtime";
import { EVERY_TYPE_CONTRACT, EVERY_TYPE_DDL, full, odd, sparse } from "@ferry/runtime/testing";
import { connectMysql } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, staleFiles } from "../src/index.ts";
import { contract, createStore, type NewSample, type Sample } from "./generated/every-type/src/index.ts";

const stack = useTestStack();
const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = EVERY_TYPE_CONTRACT;
const failures: SecondaryFailure[] = [];
let connection: Awaited<ReturnType<typeof connectMysql>>;

beforeAll(async () => {
  const db = await stack.mysql();
  await db.query(readFileSync(EVERY_TYPE_DDL, "utf8"));
  connection = await connectMysql(stack.mysqlUrl);
  await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
});
afterAll(async () => {
  await connection.end();
});

function storeIn(phase: Phase) {
  return createStore({
    phase: new FixedPhase(phase),
    mysql: connection,
    dynamodb: stack.dynamodb(),
    tablePrefix: stack.tablePrefix,
    onSecondaryFailure: (failure) => failures.push(failure),
  });
}

describe("the every-type contract's generated repositories", () => {
  it("are committed as the contract generates them", async () => {
    const files = generate(await loadValidContract(fixture), {
      contractPath: "packages/runtime/src/testing/every-type.yaml",
      outDir: "packages/codegen/test/generated/every-type",
      root,
    });
    expect(staleFiles(files, join(root, "packages/codegen/test/generated/every-type"))).toEqual([]);
  });

  const samples = { full, sparse, odd } as unknown as Record<string, NewSample>;
  for (const phase of [1, 2, 3, 4, 5] as const) {
    it(`phase ${phase}: every value of every type reads back equal, on both stores while both are written`, async () => {
      const store = storeIn(phase);
      const tenantId = BigInt(1000 + phase);
      await store.tenants.create({ id: tenantId, name: `tenant ${phase}` });
      for (const [name, value] of Object.entries(samples)) {
        const written = { ...value, tenantId, seq: Number(value.seq) + phase * 10 } as NewSample;
        const created: Sample = await store.samples.create(written);
        const read = await store.samples.get({ tenantId, seq: written.seq });
        expect(read, `${name}: read back`).toEqual(created);
        const codec = createCodec(contract);
        const mysql = await new MysqlEntityStore(connection, codec).get("Sample", { tenantId, seq: written.seq });
        const dynamo = await new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }).get(
          "Sample",
          {
            tenantId,
            seq: written.seq,
          },
        );
        if (phase >= 2 && phase <= 4)
          expect(codec.entity("Sample").diff(mysql ?? {}, dynamo ?? {}), `${name}: stores agree`).toEqual([]);
        if (phase === 1) expect(dynamo).toBeUndefined();
        if (phase === 5) expect(mysql).toBeUndefined();
        expect(await store.samples.delete({ tenantId, seq: written.seq })).toBe(true);
      }
      expect(failures).toEqual([]);
    });
  }
});
