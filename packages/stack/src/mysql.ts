import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import mysql from "mysql2/promise";
import { describeError, StackError } from "./errors.ts";
import { findExecutable, hasArgs, isRunning, type ProcessIdentity, startDetached } from "./processes.ts";

/**
 * The MariaDB server on this data folder: a mariadbd (or mysqld) run with `--datadir=<dataDir>`, as
 * ferry starts it. A system MariaDB, or another stack's, has another data folder.
 */
export function mariaDbIdentity(dataDir: string): ProcessIdentity {
  return (line) => /mariadbd|mysqld/.test(line.text) && hasArgs(line, `--datadir=${dataDir}`);
}

/** Written into a data folder once mariadb-install-db has finished making it. */
const INITIALISED_MARKER = ".ferry-initialised";

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
/** ferry's connection settings: exact numbers as strings, dates as text, JSON as text, utf8mb4, UTC. */
function connectionOptions(url: string, options: { connectTimeoutMs?: number; multipleStatements?: boolean }) {
  const location = parseMysqlUrl(url);
  return {
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
    // JSON as the server's text: mysql2 would parse it into JS numbers and lose integers beyond 2^53.
    jsonStrings: true,
    charset: "utf8mb4_unicode_ci",
    timezone: "Z",
  } as const;
}

/**
 * A pool with the settings of connectMysql (each connection in UTC): what an app serving concurrent requests uses,
 * so that transactions run side by side on connections of their own.
 */
export function createMysqlPool(
  url: string,
  options: { connectTimeoutMs?: number; connectionLimit?: number } = {},
): mysql.Pool {
  const pool = mysql.createPool({ ...connectionOptions(url, options), connectionLimit: options.connectionLimit ?? 10 });
  // The pool's own (callback) connection: the statement is queued before anything the pool hands it out for.
  pool.pool.on("connection", (connection) => {
    connection.query("SET time_zone = '+00:00'");
  });
  return pool;
}

export async function connectMysql(
  url: string,
  options: { connectTimeoutMs?: number; multipleStatements?: boolean } = {},
): Promise<mysql.Connection> {
  const connection = await mysql.createConnection(connectionOptions(url, options));
  // TIMESTAMP values and NOW() in UTC, whatever the server's zone: ferry's datetimes are UTC throughout.
  try {
    await connection.query("SET time_zone = '+00:00'");
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw error;
  }
  return connection;
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
  readyTimeoutMs?: number | undefined;
  /** InnoDB buffer pool, e.g. "256M". */
  bufferPool?: string;
  /** Progress lines for a person (e.g. a half-made data folder moved aside). */
  onProgress?: (line: string) => void;
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
  return Number.isInteger(pid) && pid > 0 && isRunning(pid, mariaDbIdentity(dataDir)) ? pid : undefined;
}

/** A short socket path (unix sockets are limited to ~100 bytes), unique to the data folder. */
function socketPath(dataDir: string): string {
  const id = createHash("sha256").update(dataDir).digest("hex").slice(0, 12);
  return join(tmpdir(), `ferry-mysql-${id}.sock`);
}

/** The data folder the server at `url` uses (`SELECT @@datadir`). */
export async function mariaDbDataDir(url: string, timeoutMs = 2_000): Promise<string> {
  const connection = await connectMysql(withDatabase(url, undefined), { connectTimeoutMs: timeoutMs });
  try {
    const [rows] = await connection.query("SELECT @@datadir AS dir");
    return String((rows as Array<{ dir: unknown }>)[0]?.dir ?? "");
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Whether two spellings of a folder name the same folder (trailing slashes and symlinks aside). */
export function sameDir(a: string, b: string): boolean {
  const trim = (dir: string) => (dir.length > 1 ? dir.replace(/\/+$/, "") : dir);
  const real = (dir: string) => {
    try {
      return realpathSync(dir);
    } catch {
      return trim(dir);
    }
  };
  return trim(a) === trim(b) || real(trim(a)) === real(trim(b));
}

/** What went wrong in mariadb-install-db's output: its ERROR lines, else the last lines. */
function installFailure(output: string): string {
  const lines = output.trim().split("\n");
  const errors = lines.filter((line) => /\bERROR\b|\[ERROR\]/.test(line));
  return [...new Set(errors.length > 0 ? errors : lines.slice(-8))].slice(0, 10).join("\n");
}

/** A data folder mariadb-install-db finished: ferry's marker, or (folders made before it) the file install-db writes last. */
function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, INITIALISED_MARKER)) || existsSync(join(dataDir, "mysql_upgrade_info"));
}

/**
 * Makes sure the data folder holds a complete set of system tables. It is made in a sibling folder
 * and renamed into place only when mariadb-install-db succeeded, so an interrupted first start leaves
 * no half-made folder behind; one left by an older ferry is moved aside (`<dataDir>.half-made-<time>`).
 */
function prepareDataDir(dataDir: string, installDb: string, asRoot: boolean, progress: (line: string) => void): void {
  const parent = dirname(dataDir);
  const name = basename(dataDir);
  if (existsSync(dataDir) && !isInitialised(dataDir)) {
    if (readdirSync(dataDir).length === 0) {
      rmSync(dataDir, { recursive: true, force: true });
    } else {
      const aside = `${dataDir}.half-made-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      renameSync(dataDir, aside);
      progress(`mysql     the data folder was only half made (an interrupted first start): moved it to ${aside}`);
    }
  }
  if (existsSync(dataDir)) return;
  mkdirSync(parent, { recursive: true });
  // The caller holds the stack lock, so an `.installing-` folder is left over from an interrupted start.
  const prefix = `${name.replace(/[^\w.-]/g, "_")}.installing-`;
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(prefix)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
  const temp = `${prefix}${process.pid}`;
  // Its own temporary folder: bootstraps running side by side (parallel test runs) collide on /tmp files.
  const scratch = mkdtempSync(join(tmpdir(), "ferry-install-"));
  // install-db runs `chown $user $datadir` unquoted (as root), so it must not see the path, which may
  // hold spaces: it runs in the parent folder and is given a relative name without any.
  const install = spawnSync(
    installDb,
    [
      "--no-defaults",
      `--datadir=./${temp}`,
      `--tmpdir=${scratch}`,
      ...(asRoot ? ["--user=root"] : []),
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
    ],
    { cwd: parent, encoding: "utf8" },
  );
  rmSync(scratch, { recursive: true, force: true });
  if (install.status !== 0 || !existsSync(join(parent, temp, "mysql"))) {
    rmSync(join(parent, temp), { recursive: true, force: true });
    throw new StackError(`mariadb-install-db failed for ${dataDir}`, {
      hint: installFailure(`${install.stderr || ""}\n${install.stdout || ""}` || install.error?.message || ""),
    });
  }
  writeFileSync(
    join(parent, temp, INITIALISED_MARKER),
    `made by mariadb-install-db for ferry, ${new Date().toISOString()}\n`,
  );
  renameSync(join(parent, temp), dataDir);
}

/**
 * A temporary folder of the server's own, unique to the data folder: beside it (`<dataDir>.tmp`), so that whoever
 * removes the folder the data folder is in removes it too; in the system's temporary folder instead when that path has
 * a space or a colon in it (the server takes its tmpdir as a colon-separated list).
 */
function serverTmpdirPath(dataDir: string): string {
  const beside = `${resolve(dataDir)}.tmp`;
  return /[\s:]/.test(beside) ? systemTmpdirPath(dataDir) : beside;
}

function systemTmpdirPath(dataDir: string): string {
  return join(tmpdir(), `ferry-mysql-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}.tmp`);
}

function serverTmpdir(dataDir: string): string {
  const dir = serverTmpdirPath(dataDir);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes the temporary folder of a MariaDB on `dataDir` once it has stopped (where an earlier ferry put it too). */
export function removeServerTmpdir(dataDir: string): void {
  rmSync(serverTmpdirPath(dataDir), { recursive: true, force: true });
  rmSync(systemTmpdirPath(dataDir), { recursive: true, force: true });
}

/**
 * Starts a private MariaDB on 127.0.0.1:port with its own data folder (created on first use), detached
 * so it outlives the CLI, and waits until it answers. On failure it is stopped and its log tail shown.
 */
export async function startMariaDb(options: MariaDbOptions, onSpawn?: (pid: number) => void): Promise<RunningMariaDb> {
  const { server, installDb } = requireMariadbd();
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dirname(options.logFile), { recursive: true });
  prepareDataDir(options.dataDir, installDb, asRoot, options.onProgress ?? (() => undefined));
  const args = [
    "--no-defaults",
    `--datadir=${options.dataDir}`,
    `--socket=${socketPath(options.dataDir)}`,
    `--tmpdir=${serverTmpdir(options.dataDir)}`,
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
  let servedDir: string | undefined;
  const pid = await startDetached(
    {
      what: "MariaDB",
      command: server,
      args,
      logFile: options.logFile,
      port: options.port,
      identity: mariaDbIdentity(options.dataDir),
      // It answers once it says which data folder it serves, and it is ours only if that is ours.
      answers: async () => {
        try {
          // As for DynamoDB Local: a refused connection answers at once, a slow first answer is waited for.
          servedDir = await mariaDbDataDir(url, 5_000);
          return true;
        } catch {
          return false;
        }
      },
      notOurs: async () =>
        servedDir !== undefined && sameDir(servedDir, options.dataDir) ? undefined : `its data folder is ${servedDir}`,
      exitHint:
        "if its data folder is damaged, `pnpm ferry stack down --purge` deletes it (and the data in it), and the next `pnpm ferry stack up` makes a fresh one",
      readyTimeoutMs: options.readyTimeoutMs,
    },
    onSpawn,
  );
  return { pid, port: options.port, url, dataDir: options.dataDir };
}
