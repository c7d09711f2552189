/**
 * A synthetic schema for the analyzer's benchmarks (`pnpm bench analyze`, `pnpm bench codegen`) and tests: N tables with 5-15 columns of varied types, a surrogate
 * or composite primary key, 0-3 foreign keys to earlier tables, unique keys and secondary indexes.
 * The same seed always gives the same schema. The DDL goes in batches (multiple statements per round
 * trip when the connection allows it) with FOREIGN_KEY_CHECKS off.
 */
import type { connectMysql } from "@ferry/stack";
import { SeededRandom } from "@ferry/stack/random";

type Connection = Awaited<ReturnType<typeof connectMysql>>;

export interface SyntheticSchema {
  tables: number;
  columns: number;
  foreignKeys: number;
}

const NOUNS = [
  "account",
  "address",
  "invoice",
  "invoice_line",
  "payment",
  "refund",
  "shipment",
  "parcel",
  "carrier",
  "warehouse",
  "stock_move",
  "supplier",
  "purchase",
  "campaign",
  "coupon",
  "review",
  "wishlist",
  "session",
  "audit_entry",
  "ticket",
];

interface ColumnKind {
  type: string;
  /** Can be part of a B-tree index without a prefix length. */
  indexable: boolean;
}

const KINDS: readonly ColumnKind[] = [
  { type: "VARCHAR(64) NOT NULL DEFAULT ''", indexable: true },
  { type: "VARCHAR(255) NULL", indexable: true },
  { type: "INT NOT NULL DEFAULT 0", indexable: true },
  { type: "BIGINT UNSIGNED NULL", indexable: true },
  { type: "DECIMAL(12,2) NOT NULL DEFAULT 0.00", indexable: true },
  { type: "DATETIME(3) NULL", indexable: true },
  { type: "DATE NULL", indexable: true },
  { type: "TINYINT(1) NOT NULL DEFAULT 0", indexable: true },
  { type: "TEXT NULL", indexable: false },
  { type: "JSON NULL", indexable: false },
  { type: "ENUM('new','active','closed') NOT NULL DEFAULT 'new'", indexable: true },
  { type: "CHAR(2) NULL", indexable: true },
  { type: "DOUBLE NULL", indexable: true },
  { type: "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP", indexable: true },
  { type: "VARBINARY(16) NULL", indexable: true },
  { type: "BLOB NULL", indexable: false },
];

const RULES = ["CASCADE", "RESTRICT", "SET NULL", "NO ACTION"] as const;

interface KeyColumn {
  name: string;
  type: string;
}

interface PlannedTable {
  name: string;
  primaryKey: KeyColumn[];
}

/**
 * Creates `tables` tables in the connection's current database (which should be empty), deterministically
 * from `seed`, and says how many tables, columns and foreign keys it made.
 */
export async function createSyntheticSchema(
  connection: Connection,
  options: { tables: number; seed: number },
): Promise<SyntheticSchema> {
  const random = new SeededRandom(options.seed);

  const planned: PlannedTable[] = [];
  const statements: string[] = [];
  let columnCount = 0;
  let foreignKeyCount = 0;

  for (let i = 0; i < options.tables; i += 1) {
    const name = `t${String(i).padStart(4, "0")}_${random.pick(NOUNS)}`;
    const definitions: string[] = [];
    const indexable: string[] = [];
    const used = new Set<string>();
    const addColumn = (column: string, type: string, canIndex: boolean) => {
      definitions.push(`\`${column}\` ${type}`);
      used.add(column);
      if (canIndex) indexable.push(column);
    };

    // Primary key: mostly a surrogate id, sometimes a composite natural key.
    const composite = i > 0 && random.fraction() < 0.2;
    const primaryKey: KeyColumn[] = composite
      ? [
          { name: "tenant_id", type: "INT UNSIGNED" },
          { name: "seq", type: "INT UNSIGNED" },
        ]
      : [{ name: "id", type: "BIGINT UNSIGNED" }];
    for (const key of primaryKey) {
      addColumn(key.name, `${key.type} NOT NULL${composite ? "" : " AUTO_INCREMENT"}`, false);
    }

    // 0-3 foreign keys to earlier tables, referencing their primary keys.
    const constraints: string[] = [];
    const foreignKeys = i === 0 ? 0 : random.between(0, Math.min(3, i));
    const targets = new Set<number>();
    for (let f = 0; f < foreignKeys; f += 1) {
      const targetIndex = random.below(i);
      if (targets.has(targetIndex)) continue;
      targets.add(targetIndex);
      const target = planned[targetIndex];
      if (!target) continue;
      const rule = random.pick(RULES);
      const columns = target.primaryKey.map((key) => ({ name: `${target.name}_${key.name}`, type: key.type }));
      for (const column of columns) {
        addColumn(
          column.name,
          `${column.type} ${rule === "SET NULL" || random.fraction() < 0.3 ? "NULL" : "NOT NULL"}`,
          false,
        );
      }
      const list = columns.map((column) => `\`${column.name}\``).join(", ");
      const referenced = target.primaryKey.map((key) => `\`${key.name}\``).join(", ");
      constraints.push(
        `CONSTRAINT \`fk_${name}_${f}\` FOREIGN KEY (${list}) REFERENCES \`${target.name}\` (${referenced}) ON DELETE ${rule}`,
      );
      foreignKeyCount += 1;
    }

    // Plain columns up to 5-15 in all.
    const total = Math.max(random.between(5, 15), definitions.length + 1);
    for (let c = definitions.length; c < total; c += 1) {
      const kind = random.pick(KINDS);
      addColumn(`c${c}`, kind.type, kind.indexable);
    }

    // A unique key now and then, 0-2 secondary indexes (some on two columns).
    if (indexable.length > 0 && random.fraction() < 0.35) {
      constraints.push(`UNIQUE KEY \`uq_${name}\` (\`${random.pick(indexable)}\`)`);
    }
    const indexes = random.between(0, 2);
    for (let x = 0; x < indexes && indexable.length > 0; x += 1) {
      const first = random.pick(indexable);
      const second = random.pick(indexable);
      const columns = random.fraction() < 0.4 && second !== first ? [first, second] : [first];
      constraints.push(`KEY \`ix_${name}_${x}\` (${columns.map((column) => `\`${column}\``).join(", ")})`);
    }

    const primary = `PRIMARY KEY (${primaryKey.map((key) => `\`${key.name}\``).join(", ")})`;
    statements.push(
      `CREATE TABLE \`${name}\` (\n  ${[...definitions, primary, ...constraints].join(",\n  ")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    );
    planned.push({ name, primaryKey });
    columnCount += definitions.length;
  }

  await connection.query("SET FOREIGN_KEY_CHECKS = 0");
  try {
    if (connection.config.multipleStatements) {
      for (let start = 0; start < statements.length; start += 50) {
        await connection.query(statements.slice(start, start + 50).join(";\n"));
      }
    } else {
      for (const statement of statements) await connection.query(statement);
    }
  } finally {
    await connection.query("SET FOREIGN_KEY_CHECKS = 1");
  }
  return { tables: options.tables, columns: columnCount, foreignKeys: foreignKeyCount };
}
