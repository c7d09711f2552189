/**
 * The store's schema migrations: `db/migrations/NNN_name.sql`, applied in order once each and
 * recorded in `schema_migrations` with a checksum, so an edited migration is noticed, not re-run.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StackError } from "@ferry/stack";
import type { Connection, RowDataPacket } from "mysql2/promise";

export const MIGRATIONS_TABLE = "schema_migrations";
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../db/migrations/", import.meta.url));

export interface Migration {
  version: number;
  name: string;
  /** sha256 of the file's text, hex. */
  checksum: string;
  sql: string;
  file: string;
}

export interface MigrateResult {
  /** Versions applied by this call, in order. */
  applied: Migration[];
  /** Versions that were applied before. */
  skipped: Migration[];
}

const FILE_PATTERN = /^(\d+)_([a-z0-9_]+)\.sql$/;

/** The migration files of a folder, by version; throws on a badly named file or a repeated version. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".sql")) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new StackError(`migration file ${file} is not named NNN_name.sql`, { hint: `in ${dir}` });
    }
    const sql = readFileSync(`${dir}/${file}`, "utf8");
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      checksum: createHash("sha256").update(sql).digest("hex"),
      sql,
      file,
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    const [previous, current] = [migrations[i - 1], migrations[i]];
    if (previous && current && previous.version === current.version) {
      throw new StackError(`migrations ${previous.file} and ${current.file} have the same version ${current.version}`);
    }
  }
  return migrations;
}

/**
 * Applies the pending migrations to the connection's current database, in version order. Refuses
 * (changing nothing) if an applied migration's file changed or disappeared. A named lock keeps two
 * migrators from racing on the same server.
 */
export async function migrateStore(connection: Connection, options: { dir?: string } = {}): Promise<MigrateResult> {
  const migrations = loadMigrations(options.dir);
  const table = connection.escapeId(MIGRATIONS_TABLE);
  const [databaseRows] = await connection.query<RowDataPacket[]>("SELECT DATABASE() AS db");
  const database = databaseRows[0]?.db as string | null | undefined;
  if (!database) throw new StackError("migrateStore needs a connection with a database selected");

  const lockName = `ferry_migrate:${database}`.slice(0, 64);
  const [lockRows] = await connection.query<RowDataPacket[]>("SELECT GET_LOCK(?, 60) AS got", [lockName]);
  if (Number(lockRows[0]?.got) !== 1) {
    throw new StackError(`could not take the migration lock for database ${database} within 60s`, {
      hint: "another migration of this database is running; wait for it to finish",
    });
  }
  try {
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
        version    INT UNSIGNED NOT NULL,
        name       VARCHAR(255) NOT NULL,
        checksum   CHAR(64)     NOT NULL,
        applied_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (version)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    );
    const [appliedRows] = await connection.query<RowDataPacket[]>(
      `SELECT version, name, checksum FROM ${table} ORDER BY version`,
    );
    const byVersion = new Map(migrations.map((m) => [m.version, m]));
    for (const row of appliedRows) {
      const version = Number(row.version);
      const file = byVersion.get(version);
      if (!file) {
        throw new StackError(
          `database ${database} has migration ${version} (${row.name as string}) applied, but there is no file for it`,
          { hint: "the database is newer than this code: update the code, or reset the database" },
        );
      }
      if (file.checksum !== row.checksum) {
        throw new StackError(`migration ${file.file} changed after it was applied to database ${database}`, {
          hint: "never edit an applied migration: restore the file and add a new migration with the change (or reset the database)",
        });
      }
    }

    const done = new Set(appliedRows.map((row) => Number(row.version)));
    const result: MigrateResult = { applied: [], skipped: [] };
    for (const migration of migrations) {
      if (done.has(migration.version)) {
        result.skipped.push(migration);
        continue;
      }
      for (const statement of splitStatements(migration.sql)) {
        try {
          await connection.query(statement);
        } catch (error) {
          throw new StackError(`migration ${migration.file} failed: ${(error as Error).message}`, { cause: error });
        }
      }
      await connection.query(`INSERT INTO ${table} (version, name, checksum) VALUES (?, ?, ?)`, [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      result.applied.push(migration);
    }
    return result;
  } finally {
    await connection.query("SELECT RELEASE_LOCK(?)", [lockName]);
  }
}

/**
 * Splits a migration into statements at `;` outside quotes and comments, so migrations run on any
 * connection (multipleStatements off). Comments are kept with their statement; empty ones dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, "").trim()) statements.push(text);
  };
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"' || ch === "`") {
      i++;
      while (i < sql.length && sql[i] !== ch) i += sql[i] === "\\" && ch !== "`" ? 2 : 1;
      i++;
    } else if (ch === "-" && next === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (ch === "#") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (ch === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (ch === ";") {
      push(i);
      start = ++i;
    } else {
      i++;
    }
  }
  push(sql.length);
  return statements;
}
