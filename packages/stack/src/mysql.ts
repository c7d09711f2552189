import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import mysql from "mysql2/promise";
import { describeError, StackError } from "./errors.ts";
import { findExecutable, isRunning, startDetached } from "./processes.ts";

/** What identifies a MariaDB server process in `/proc/<pid>/cmdline`. */
export const MARIADB_MARKER = "mariadbd";

export interface MysqlLocation {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string | undefined;
}

/** Parses `mysql://user:pass@host:port/db`; throws a StackError naming the problem. */
export function parseMysqlUrl(url: string): MysqlLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StackError(`not a MySQL URL: ${redactMysqlUrl(url)}`, {
      hint: "expected mysql://user:password@host:port/database",
    });
  }
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:") {
    throw new StackError(`not a MySQL URL (scheme ${parsed.protocol}): ${redactMysqlUrl(url)}`, {
      hint: "expected mysql://user:password@host:port/database",
    });
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username || "root"),
    password: decodeURIComponent(parsed.password),
    database: database || undefined,
  };
}

/** Builds a URL from its parts (password percent-encoded). */
export function formatMysqlUrl(location: MysqlLocation): string {
  const auth = location.password
    ? `${encodeURIComponent(location.user)}:${encodeURIComponent(location.password)}`
    : encodeURIComponent(location.user);
  const db = location.database ? `/${encodeURIComponent(location.database)}` : "";
  return `mysql://${auth}@${location.host}:${location.port}${db}`;
}

/** The same URL with a different database (or none). */
export function withDatabase(url: string, database: string | undefined): string {
  return formatMysqlUrl({ ...parseMysqlUrl(url), database });
}

/** A URL safe to print: the password replaced by `***`. */
export function redactMysqlUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+:)[^@]*@/, "$1***@");
}

/** Opens one connection; DECIMAL and BIGINT come back as strings so nothing loses precision. */
export async function connectMysql(
  url: string,
  options: { connectTimeoutMs?: number; multipleStatements?: boolean } = {},
): Promise<mysql.Connection> {
  const location = parseMysqlUrl(url);
  return mysql.createConnection({
    host: location.host,
    port: location.port,
    user: location.user,
    password: location.password,
    database: location.database,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    multipleStatements: options.multipleStatements ?? false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    charset: "utf8mb4_unicode_ci",
    timezone: "Z",
  });
}

/** Pings the server; resolves to undefined when it answers, else to the reason it did not. */
export async function mysqlProblem(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  let connection: mysql.Connection | undefined;
  try {
    connection = await connectMysql(withDatabase(url, undefined), { connectTimeoutMs: timeoutMs });
    await connection.ping();
    return undefined;
  } catch (error) {
    return describeError(error) || (error as { code?: string }).code || "no answer";
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

export interface MariaDbOptions {
  port: number;
  dataDir: string;
  logFile: string;
  readyTimeoutMs?: number;
  /** InnoDB buffer pool, e.g. "256M". */
  bufferPool?: string;
}

export interface RunningMariaDb {
  pid: number;
  port: number;
  url: string;
  dataDir: string;
}

const installHint =
  "install a MariaDB server binary (`sudo apt-get install mariadb-server` on Debian/Ubuntu, `brew install mariadb` on macOS), or point MYSQL_URL at a running MySQL/MariaDB server";

/** The server binary: `mariadbd` (or `mysqld` from a MariaDB install). */
export function requireMariadbd(): { server: string; installDb: string } {
  const server = findExecutable("mariadbd") ?? findExecutable("mysqld");
  const installDb = findExecutable("mariadb-install-db") ?? findExecutable("mysql_install_db");
  if (!server || !installDb) {
    const missing = [server ? "" : "mariadbd", installDb ? "" : "mariadb-install-db"].filter(Boolean).join(" and ");
    throw new StackError(
      `MariaDB's server binaries are not installed (${missing} not found), and MYSQL_URL is not set`,
      {
        hint: installHint,
      },
    );
  }
  return { server, installDb };
}

/** The pid mariadbd wrote for this data folder, when it is still a running mariadbd. */
export function mariaDbPidIn(dataDir: string): number | undefined {
  const pidFile = join(dataDir, "mariadbd.pid");
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && isRunning(pid, MARIADB_MARKER) ? pid : undefined;
}

/** A short socket path (unix sockets are limited to ~100 bytes), unique to the data folder. */
function socketPath(dataDir: string): string {
  const id = createHash("sha256").update(dataDir).digest("hex").slice(0, 12);
  return join(tmpdir(), `ferry-mysql-${id}.sock`);
}

/**
 * Starts a private MariaDB on 127.0.0.1:port with its own data folder (created on first use), detached
 * so it outlives the CLI, and waits until it answers. On failure it is stopped and its log tail shown.
 */
export async function startMariaDb(options: MariaDbOptions, onSpawn?: (pid: number) => void): Promise<RunningMariaDb> {
  const { server, installDb } = requireMariadbd();
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dirname(options.logFile), { recursive: true });
  if (!existsSync(join(options.dataDir, "mysql"))) {
    mkdirSync(options.dataDir, { recursive: true });
    const install = spawnSync(
      installDb,
      [
        "--no-defaults",
        `--datadir=${options.dataDir}`,
        ...(asRoot ? ["--user=root"] : []),
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
      ],
      { encoding: "utf8" },
    );
    if (install.status !== 0) {
      throw new StackError(`mariadb-install-db failed for ${options.dataDir}`, {
        hint: `${install.stderr || install.stdout}`.trim().split("\n").slice(-8).join("\n"),
      });
    }
  }
  const args = [
    "--no-defaults",
    `--datadir=${options.dataDir}`,
    `--socket=${socketPath(options.dataDir)}`,
    `--port=${options.port}`,
    "--bind-address=127.0.0.1",
    `--pid-file=${join(options.dataDir, "mariadbd.pid")}`,
    `--log-error=${options.logFile}`,
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--skip-name-resolve",
    "--local-infile=1",
    "--max-connections=500",
    `--innodb-buffer-pool-size=${options.bufferPool ?? "256M"}`,
    // A development server: fsync once a second instead of per commit.
    "--innodb-flush-log-at-trx-commit=2",
    ...(asRoot ? ["--user=root"] : []),
  ];
  const url = formatMysqlUrl({
    host: "127.0.0.1",
    port: options.port,
    user: "root",
    password: "",
    database: undefined,
  });
  const pid = await startDetached(
    {
      what: "MariaDB",
      command: server,
      args,
      logFile: options.logFile,
      port: options.port,
      answers: async () => (await mysqlProblem(url, 1_000)) === undefined,
      readyTimeoutMs: options.readyTimeoutMs,
    },
    onSpawn,
  );
  return { pid, port: options.port, url, dataDir: options.dataDir };
}
