/**
 * General query logs: the file a server writes with `log_output = 'FILE'`, in MariaDB's format
 *
 *   261121  5:17:10	     8 Connect	root@127.0.0.1 on store using TCP/IP
 *   		     8 Query	SELECT ...          (the time only when it changed)
 *
 * or MySQL 8's (an ISO-8601 time on every line, `log_timestamps` UTC or SYSTEM)
 *
 *   2026-11-21T04:31:22.123456Z	    8 Query	SELECT ...
 *
 * A statement that spans lines goes on over the following lines as they are. Each connection's
 * current database is followed (Connect ... on DB, Init DB, USE), so statements can be kept to
 * the analysed database. Query and Execute count; Prepare does not (its Execute follows).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { WorkloadBuilder } from "./build.ts";
import { lex } from "./normalize.ts";
import type { Workload } from "./types.ts";

/** `YYMMDD H:MM:SS<tab>` or `<tab>`, then `<tab> id Command<tab>argument`. */
const MARIADB_LINE =
  /^(?:(\d\d)(\d\d)(\d\d) +(\d{1,2}):(\d\d):(\d\d)|)\t\s*(\d+) ([A-Z][A-Za-z_]*(?: [A-Za-z_]+)*)\t(.*)$/;
/** `2026-11-21T04:31:22.123456Z<tab>    id Command<tab>argument` (or +01:00 for log_timestamps = SYSTEM). */
const MYSQL_LINE =
  /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)?\t\s*(\d+) ([A-Z][A-Za-z_]*(?: [A-Za-z_]+)*)\t(.*)$/;
/** The header a server writes when it opens the log (again after a restart or FLUSH LOGS). */
const HEADER_LINE = /^(?:\S.*, Version: .*started with:|Tcp port: .*|Time\s+Id\s+Command\s+Argument)$/;
const CONNECT_DATABASE = / on (\S*)(?: using |$)/;

/** One entry of a general log (or a row of mysql.general_log). */
export interface GeneralLogEvent {
  thread: string;
  command: string;
  argument: string;
  /** ms since the epoch (the server's local time read as UTC when the log has no zone). */
  at?: number;
}

/**
 * Follows connections through general-log events and feeds the statements to a WorkloadBuilder
 * with the database each ran on. Shared by the file reader and the live capture.
 */
export class GeneralLogSession {
  /** Thread id -> current database ("" when it has none). Threads not seen connecting are unknown. */
  private readonly databases = new Map<string, string>();

  constructor(
    private readonly builder: WorkloadBuilder,
    initial?: ReadonlyMap<string, string>,
  ) {
    if (initial) for (const [thread, database] of initial) this.databases.set(thread, database);
  }

  event(event: GeneralLogEvent): void {
    const { thread, command, argument, at } = event;
    switch (command) {
      case "Query":
      case "Execute": {
        const used = useDatabase(argument);
        if (used !== undefined) this.databases.set(thread, used);
        this.builder.add({ sql: argument, at, database: this.databases.get(thread) });
        break;
      }
      case "Connect":
      case "Change user": {
        const match = CONNECT_DATABASE.exec(argument);
        if (match) this.databases.set(thread, match[1] ?? "");
        break;
      }
      case "Init DB":
        this.databases.set(thread, argument.trim());
        break;
      case "Quit":
        this.databases.delete(thread);
        break;
      default:
        break;
    }
  }
}

/** The database a `USE db` statement switches to; undefined for any other statement. */
export function useDatabase(sql: string): string | undefined {
  // Cheap test first: this runs for every statement.
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
  const u = sql.charCodeAt(i);
  if (u !== 85 && u !== 117) return undefined;
  const s = sql.charCodeAt(i + 1);
  if (s !== 83 && s !== 115) return undefined;
  const lexemes = lex(sql);
  if (lexemes[0]?.text !== "USE" || lexemes[0].kind !== "keyword") return undefined;
  const name = lexemes[1];
  return name?.kind === "identifier" ? name.text : undefined;
}

/** Parses general-log lines one at a time (both formats), passing complete events on. */
export class GeneralLogParser {
  private pending: GeneralLogEvent | undefined;
  private at: number | undefined;

  constructor(private readonly onEvent: (event: GeneralLogEvent) => void) {}

  line(line: string): void {
    const first = line.charCodeAt(0);
    // Entry lines start with a tab (MariaDB, same second), a digit (a time), else they continue a statement.
    if (first === 9 /* \t */ || (first >= 48 && first <= 57)) {
      const maria = MARIADB_LINE.exec(line);
      if (maria) {
        if (maria[1] !== undefined) {
          this.at = Date.UTC(
            2000 + Number(maria[1]),
            Number(maria[2]) - 1,
            Number(maria[3]),
            Number(maria[4]),
            Number(maria[5]),
            Number(maria[6]),
          );
        }
        this.start({ thread: maria[7] ?? "", command: maria[8] ?? "", argument: maria[9] ?? "", at: this.at });
        return;
      }
      const mysql = first !== 9 ? MYSQL_LINE.exec(line) : null;
      if (mysql) {
        let at = Date.UTC(
          Number(mysql[1]),
          Number(mysql[2]) - 1,
          Number(mysql[3]),
          Number(mysql[4]),
          Number(mysql[5]),
          Number(mysql[6]),
        );
        at += Number(`0.${mysql[7] ?? "0"}`) * 1000;
        const zone = mysql[8];
        if (zone && zone !== "Z") {
          const sign = zone.startsWith("-") ? -1 : 1;
          at -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
        }
        this.at = at;
        this.start({ thread: mysql[9] ?? "", command: mysql[10] ?? "", argument: mysql[11] ?? "", at });
        return;
      }
    }
    if (HEADER_LINE.test(line)) {
      this.flush();
      return;
    }
    if (this.pending) this.pending.argument += `\n${line}`;
  }

  /** Passes on the last event (call at the end of the input). */
  flush(): void {
    if (this.pending) this.onEvent(this.pending);
    this.pending = undefined;
  }

  private start(event: GeneralLogEvent): void {
    this.flush();
    this.pending = event;
  }
}

/**
 * Reads a general query log file saved by MariaDB or MySQL 8 (streamed line by line) into a
 * Workload of the statements that ran on `database` (or on a connection whose database the log
 * does not show).
 */
export async function readGeneralLogFile(path: string, options: { database: string }): Promise<Workload> {
  const builder = new WorkloadBuilder({ origin: path, database: options.database });
  const session = new GeneralLogSession(builder);
  const parser = new GeneralLogParser((event) => session.event(event));
  const lines = createInterface({
    input: createReadStream(path, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) parser.line(line);
  parser.flush();
  return builder.build();
}
