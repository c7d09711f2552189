/**
 * `captureGeneralLog`: records a live server's statements for a while through the general log
 * written to the mysql.general_log table, then puts the server's log settings back as they were,
 * whatever happens. The table is read by time, never truncated (others may use it).
 */
import { StackError } from "@ferry/stack";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { WorkloadBuilder } from "./build.ts";
import { GeneralLogSession } from "./general-log.ts";
import { parseServerTime } from "./time.ts";
import type { Workload } from "./types.ts";

export interface CaptureOptions {
  /** How long to record. */
  seconds: number;
  /** The analysed database: statements on others are left out. */
  database: string;
  /**
   * Called about once a second: seconds elapsed, and statements the server has run since the
   * start (all databases, from its Questions counter: an upper bound of what will be kept).
   */
  onTick?: (elapsed: number, seen: number) => void;
  /** Stops the recording early: the settings are restored and the promise rejects with the reason. */
  signal?: AbortSignal;
  /** Called once the window has started: the statements run from then on are recorded. */
  onStart?: () => void;
}

interface LogSettings {
  generalLog: boolean;
  logOutput: string;
}

const ACCESS_ERRORS = new Set([
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_ACCESS_DENIED_ERROR",
  "ER_COLUMNACCESS_DENIED_ERROR",
]);

const PRIVILEGE_HINT =
  "capturing needs SUPER (MariaDB) or SYSTEM_VARIABLES_ADMIN (MySQL 8) to switch the general log on, and SELECT on mysql.general_log; " +
  "ask an administrator for them, or give ferry a saved general log file instead (ferry analyze --workload FILE)";

/** Server time as text with microseconds, whatever the connection's date settings. */
const NOW = "DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f')";

export async function captureGeneralLog(connection: Connection, options: CaptureOptions): Promise<Workload> {
  const { seconds, database, signal } = options;
  if (!(seconds > 0)) throw new StackError(`capture needs a positive number of seconds, not ${seconds}`);
  signal?.throwIfAborted();

  const [settingRows] = await connection.query<RowDataPacket[]>(
    `SELECT @@GLOBAL.general_log AS general_log, @@GLOBAL.log_output AS log_output, CONNECTION_ID() AS id`,
  );
  const settings = settingRows[0];
  if (!settings) throw new StackError("the server did not report its general log settings");
  const previous: LogSettings = {
    generalLog: Number(settings.general_log) === 1 || String(settings.general_log).toUpperCase() === "ON",
    logOutput: String(settings.log_output),
  };
  const self = String(settings.id);
  const outputs = previous.logOutput
    .toUpperCase()
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s !== "NONE");
  const wanted: LogSettings = {
    generalLog: true,
    logOutput: outputs.includes("TABLE") ? previous.logOutput : [...outputs, "TABLE"].join(","),
  };

  const questionsAtStart = await questions(connection);

  let changed = false;
  const restore = () => applySettings(connection, previous, "could not restore the general log settings");
  let startedAt: string;
  let endedAt: string;
  let initialDatabases: Map<string, string>;
  try {
    if (wanted.logOutput !== previous.logOutput || !previous.generalLog) {
      changed = true;
      await applySettings(connection, wanted, "cannot switch the general log on");
    }
    // The window starts once the log is on, with the database of every connection open then, listed in the statement
    // that reads the server's time: a connection made later has its Connect line in the log, inside the window. (With
    // the list read before the log came on, a connection made in between was in neither, its database unknown, and
    // its statements were kept as the analysed database's.)
    const open = await currentDatabases(connection);
    initialDatabases = open.databases;
    startedAt = open.at ?? (await serverNow(connection));
    options.onStart?.();
    await waitWindow(seconds, signal, async (elapsed) => {
      if (!options.onTick) return;
      const seen = Math.max(0, (await questions(connection)) - questionsAtStart);
      options.onTick(elapsed, seen);
    });
    endedAt = await serverNow(connection);
  } catch (error) {
    // Put the settings back and report the first error (a missing privilege fails both ways).
    if (changed) await restore().catch(() => undefined);
    throw error;
  }
  if (changed) await restore();

  const builder = new WorkloadBuilder({
    origin: "general_log table",
    database,
    seconds: windowSeconds(startedAt, endedAt),
  });
  const session = new GeneralLogSession(builder, initialDatabases);
  // No ORDER BY: the log table (CSV) is read in the order it was written, which keeps a
  // connection's Init DB before its next statement even within one microsecond.
  let rows: RowDataPacket[];
  try {
    [rows] = await connection.query<RowDataPacket[]>(
      `SELECT DATE_FORMAT(event_time, '%Y-%m-%d %H:%i:%s.%f') AS at, thread_id, command_type, argument
         FROM mysql.general_log
        WHERE event_time >= ? AND event_time <= ? AND thread_id <> ?
          AND command_type IN ('Query', 'Execute', 'Connect', 'Init DB', 'Change user', 'Quit')`,
      [startedAt, endedAt, self],
    );
  } catch (error) {
    throw privilegeError(error, "cannot read mysql.general_log") ?? error;
  }
  for (const row of rows) {
    const argument = row.argument;
    session.event({
      thread: String(row.thread_id),
      command: String(row.command_type),
      argument: Buffer.isBuffer(argument) ? argument.toString("utf8") : String(argument ?? ""),
      at: parseServerTime(String(row.at)),
    });
  }
  return builder.build();
}

async function applySettings(connection: Connection, target: LogSettings, failure: string): Promise<void> {
  try {
    // Output first, so switching the log on never writes to an output that was not wanted.
    if (target.generalLog) {
      await connection.query("SET GLOBAL log_output = ?", [target.logOutput]);
      await connection.query(`SET GLOBAL general_log = 'ON'`);
    } else {
      await connection.query(`SET GLOBAL general_log = 'OFF'`);
      await connection.query("SET GLOBAL log_output = ?", [target.logOutput]);
    }
  } catch (error) {
    throw privilegeError(error, failure) ?? error;
  }
}

function privilegeError(error: unknown, what: string): StackError | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !ACCESS_ERRORS.has(code)) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new StackError(`${what}: ${message}`, { hint: PRIVILEGE_HINT, cause: error });
}

/**
 * Thread id -> current database of the connections open now, and the server's time as the list was taken (its
 * statement's start; a connection that changes database between then and the list's reading has the change both in
 * the list and in the log, where it is read again to the same end). No time when the list cannot be read.
 */
async function currentDatabases(connection: Connection): Promise<{ databases: Map<string, string>; at?: string }> {
  const databases = new Map<string, string>();
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT ID AS id, DB AS db, ${NOW} AS now FROM information_schema.PROCESSLIST`,
    );
    for (const row of rows) databases.set(String(row.id), row.db === null ? "" : String(row.db));
    // Our own connection is always listed, so a row carries the time.
    const at = rows[0]?.now;
    return at === undefined ? { databases } : { databases, at: String(at) };
  } catch {
    // Without PROCESS the list shows only the account's own connections; the log's Connect and Init DB lines still tell.
    return { databases };
  }
}

/** The server's time now, as text with microseconds. */
async function serverNow(connection: Connection): Promise<string> {
  const [rows] = await connection.query<RowDataPacket[]>(`SELECT ${NOW} AS now`);
  const now = rows[0]?.now;
  if (now === undefined) throw new StackError("the server did not report its time");
  return String(now);
}

/** The server's count of statements run (all connections). */
async function questions(connection: Connection): Promise<number> {
  const [rows] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Questions'");
  return Number(rows[0]?.Value ?? 0);
}

/** Waits `seconds`, calling `tick` every second; rejects with the signal's reason when aborted. */
async function waitWindow(
  seconds: number,
  signal: AbortSignal | undefined,
  tick: (elapsed: number) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  for (;;) {
    signal?.throwIfAborted();
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed >= seconds) return;
    const wait = Math.min(1, seconds - elapsed) * 1000;
    await sleep(wait, signal);
    signal?.throwIfAborted();
    await tick(Math.min(seconds, (performance.now() - started) / 1000));
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function windowSeconds(start: string, end: string): number {
  const a = parseServerTime(start);
  const b = parseServerTime(end);
  if (a === undefined || b === undefined) return 1;
  return Math.max(0.001, Math.round(b - a) / 1000);
}
