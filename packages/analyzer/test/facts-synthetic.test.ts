/**
 * The benchmarks' synthetic schema (@ferry/analyzer/synthetic): what it makes is what introspect reads,
 * the same seed makes the same schema, and 300 tables are read well within a second.
 */
import { connectMysql, withDatabase } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { introspect, type SchemaFacts } from "../src/facts/index.ts";
import { createSyntheticSchema } from "../src/synthetic/index.ts";

const stack = useTestStack();

async function inNewDatabase<T>(
  suffix: string,
  run: (connection: Awaited<ReturnType<typeof connectMysql>>, database: string) => Promise<T>,
) {
  const database = stack.name(suffix);
  const admin = await stack.mysql();
  await admin.query(`CREATE DATABASE ${admin.escapeId(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const connection = await connectMysql(withDatabase(stack.serverUrl, database), { multipleStatements: true });
  try {
    return await run(connection, database);
  } finally {
    await connection.end();
  }
}

function withoutDatabase(facts: SchemaFacts): Omit<SchemaFacts, "database"> {
  const { database: _database, ...rest } = facts;
  return rest;
}

describe("createSyntheticSchema + introspect", () => {
  // How long introspection takes is measured by `pnpm bench analyze`, against a baseline, not here.
  it("300 tables: introspect reads what was made", async () => {
    const connection = await stack.mysql();
    const made = await createSyntheticSchema(connection, { tables: 300, seed: 1 });
    const facts = await introspect(connection, stack.database);

    // Seed 1 makes exactly this schema.
    expect(made).toEqual({ tables: 300, columns: 2991, foreignKeys: 416 });
    expect(facts.tables).toHaveLength(300);
    expect(facts.tables.reduce((n, t) => n + t.columns.length, 0)).toBe(made.columns);
    expect(facts.tables.reduce((n, t) => n + t.foreignKeys.length, 0)).toBe(made.foreignKeys);
    // What every table has (its counts are the seed's: bounds say what they all share).
    for (const t of facts.tables) {
      expect(t.columns.length).toBeGreaterThanOrEqual(5);
      expect(t.primaryKey.length).toBeGreaterThanOrEqual(1);
      for (const fk of t.foreignKeys) expect(fk.referencedTable < t.name).toBe(true);
    }
    expect(facts.tables.some((t) => t.primaryKey.length === 2)).toBe(true);
    expect(facts.tables.some((t) => t.uniqueKeys.length > 0)).toBe(true);
    expect(facts.tables.some((t) => t.indexes.some((index) => index.columns.length === 2))).toBe(true);
  });

  it("the same seed makes the same schema; another seed another", async () => {
    const first = await inNewDatabase("seed_a", async (connection, database) => {
      await createSyntheticSchema(connection, { tables: 40, seed: 7 });
      return introspect(connection, database);
    });
    const again = await inNewDatabase("seed_b", async (connection, database) => {
      await createSyntheticSchema(connection, { tables: 40, seed: 7 });
      return introspect(connection, database);
    });
    const other = await inNewDatabase("seed_c", async (connection, database) => {
      await createSyntheticSchema(connection, { tables: 40, seed: 8 });
      return introspect(connection, database);
    });
    expect(withoutDatabase(again)).toEqual(withoutDatabase(first));
    expect(withoutDatabase(other)).not.toEqual(withoutDatabase(first));
  });
});
