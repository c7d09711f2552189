/**
 * Writes many generated rows fast over one connection: `LOAD DATA LOCAL INFILE` fed from memory
 * when the server allows it (`local_infile`), otherwise multi-row INSERTs with every value escaped.
 * The session turns foreign-key and unique checks off: the rows are generated consistent, and
 * checking them one by one is most of the cost of a load.
 */
import { Readable } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import { connectMysql, StackError } from "@ferry/stack";
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import type { Cell, RowCells } from "./tables.ts";

export type BulkMethod = "load-data" | "insert";

/** Errors that mean "LOAD DATA LOCAL is not allowed here" (server or client side). */
const LOCAL_INFILE_REFUSED = new Set([1148, 3948, 2068]);
/** Size of one INSERT statement (well under the 16 MiB default max_allowed_packet). */
const INSERT_BYTES = 4 * 1024 * 1024;
/** Size of one piece of a LOAD DATA stream. */
const STREAM_PIECE_BYTES = 256 * 1024;
/** Stop making rows while this much is waiting in the socket (mysql2 does not push back itself). */
const SOCKET_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Rows made on demand, a chunk at a time. */
export interface RowSource {
  rows: number;
  make(): RowCells[];
}

/** The best method the server offers: LOAD DATA when its `local_infile` is on. */
export async function preferredMethod(connection: Connection): Promise<BulkMethod> {
  const [rows] = await connection.query<RowDataPacket[]>("SELECT @@GLOBAL.local_infile AS on_");
  return Number(rows[0]?.on_) === 1 ? "load-data" : "insert";
}

export class BulkWriter {
  private constructor(
    private readonly connection: Connection,
    private method: BulkMethod,
  ) {}

  /** Opens a connection to `url` (with its database) ready for loading; asks the server for the method unless given. */
  static async open(url: string, method?: BulkMethod): Promise<BulkWriter> {
    const connection = await connectMysql(url);
    try {
      await connection.query("SET SESSION foreign_key_checks = 0, unique_checks = 0");
      return new BulkWriter(connection, method ?? (await preferredMethod(connection)));
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
  }

  get currentMethod(): BulkMethod {
    return this.method;
  }

  /** Writes the rows (cells in `columns` order); throws unless every row landed unchanged. */
  async write(table: string, columns: readonly string[], rows: readonly RowCells[]): Promise<void> {
    if (rows.length === 0) return;
    await this.writeTable(table, columns, [{ rows: rows.length, make: () => [...rows] }]);
  }

  /**
   * Writes all the sources' rows. With LOAD DATA this is ONE statement streaming every chunk as it
   * is made: into an empty table with unique and foreign-key checks off, MariaDB (10.6+) then
   * builds the table and its indexes in bulk, far faster than row by row. With INSERT it is one
   * statement per few MiB. `onRows` is told as each source has been sent.
   */
  async writeTable(
    table: string,
    columns: readonly string[],
    sources: readonly RowSource[],
    onRows: (rows: number) => void = () => undefined,
  ): Promise<void> {
    const total = sources.reduce((sum, source) => sum + source.rows, 0);
    if (total === 0) return;
    if (this.method === "load-data") {
      let started = false;
      try {
        await this.loadData(table, columns, total, () => {
          started = true;
          return Readable.from(this.tsvStream(table, sources, onRows));
        });
        return;
      } catch (error) {
        const refused = LOCAL_INFILE_REFUSED.has((error as { errno?: number }).errno ?? 0);
        if (started || !refused) throw error;
        this.method = "insert";
      }
    }
    for (const source of sources) {
      const rows = made(table, source);
      await this.insert(table, columns, rows);
      onRows(rows.length);
    }
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined);
  }

  private async loadData(
    table: string,
    columns: readonly string[],
    total: number,
    stream: () => Readable,
  ): Promise<void> {
    const sql =
      `LOAD DATA LOCAL INFILE 'ferry-seed-${table}' INTO TABLE ${this.connection.escapeId(table)} ` +
      "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' " +
      `(${columns.map((c) => this.connection.escapeId(c)).join(", ")})`;
    const [result] = await this.connection.query<ResultSetHeader>({ sql, infileStreamFactory: stream });
    // LOAD DATA LOCAL turns row errors (duplicates, bad values) into warnings: treat them as errors.
    if (result.affectedRows !== total || result.warningStatus > 0) {
      const [warnings] = await this.connection.query<RowDataPacket[]>("SHOW WARNINGS LIMIT 3");
      const detail = warnings.map((w) => String(w.Message)).join("; ");
      throw new StackError(
        `loading ${table}: ${result.affectedRows} of ${total} rows landed, ${result.warningStatus} warnings${detail ? `: ${detail}` : ""}`,
      );
    }
  }

  /** The sources as TSV, made a chunk at a time, yielding to other work between chunks. */
  private async *tsvStream(
    table: string,
    sources: readonly RowSource[],
    onRows: (rows: number) => void,
  ): AsyncGenerator<Buffer> {
    const socket = socketOf(this.connection);
    for (const source of sources) {
      const rows = made(table, source);
      yield* tsvPieces(rows);
      onRows(rows.length);
      while (socket && socket.writableLength > SOCKET_BACKLOG_BYTES && !socket.destroyed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          socket.on("drain", done);
          socket.on("close", done);
        });
      }
      await nextTurn();
    }
  }

  private async insert(table: string, columns: readonly string[], rows: readonly RowCells[]): Promise<void> {
    const head = `INSERT INTO ${this.connection.escapeId(table)} (${columns.map((c) => this.connection.escapeId(c)).join(", ")}) VALUES `;
    let values: string[] = [];
    let bytes = head.length;
    const flush = async () => {
      const [result] = await this.connection.query<ResultSetHeader>(head + values.join(","));
      if (result.affectedRows !== values.length) {
        throw new StackError(`inserting into ${table}: ${result.affectedRows} of ${values.length} rows landed`);
      }
      values = [];
      bytes = head.length;
    };
    for (const row of rows) {
      const tuple = `(${row.map((cell) => this.sqlValue(cell)).join(",")})`;
      if (values.length > 0 && bytes + tuple.length + 1 > INSERT_BYTES) await flush();
      values.push(tuple);
      bytes += tuple.length + 1;
    }
    if (values.length > 0) await flush();
  }

  private sqlValue(cell: Cell): string {
    if (cell === null) return "NULL";
    if (typeof cell === "number") {
      if (!Number.isFinite(cell)) throw new RangeError(`not a finite number: ${cell}`);
      return String(cell);
    }
    return this.connection.escape(cell);
  }
}

/** A source's rows, checked to be as many as it promised. */
function made(table: string, source: RowSource): RowCells[] {
  const rows = source.make();
  if (rows.length !== source.rows) throw new Error(`a ${table} chunk made ${rows.length} rows, not ${source.rows}`);
  return rows;
}

interface SocketLike {
  writableLength: number;
  destroyed: boolean;
  on(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/** The socket under a mysql2 promise connection, when it can be found (for back-pressure only). */
function socketOf(connection: Connection): SocketLike | undefined {
  const stream = (connection as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  return stream && typeof (stream as SocketLike).writableLength === "number" ? (stream as SocketLike) : undefined;
}

const TSV_SPECIAL = /[\\\t\n\r\0]/;
const TSV_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0" };

/** One cell in LOAD DATA's default text format: `\N` for NULL, backslash escapes. */
export function tsvCell(cell: Cell): string {
  if (cell === null) return "\\N";
  if (typeof cell === "number") {
    if (!Number.isFinite(cell)) throw new RangeError(`not a finite number: ${cell}`);
    return String(cell);
  }
  return TSV_SPECIAL.test(cell) ? cell.replace(/[\\\t\n\r\0]/g, (ch) => TSV_ESCAPES[ch] ?? ch) : cell;
}

/** The rows as tab-separated lines, in Buffers of about STREAM_PIECE_BYTES (each one packet). */
export function* tsvPieces(rows: readonly RowCells[]): Generator<Buffer> {
  let lines: string[] = [];
  let length = 0;
  for (const row of rows) {
    let line = "";
    for (let i = 0; i < row.length; i++) line += (i === 0 ? "" : "\t") + tsvCell(row[i] ?? null);
    lines.push(line);
    length += line.length + 1;
    if (length >= STREAM_PIECE_BYTES) {
      lines.push("");
      yield Buffer.from(lines.join("\n"), "utf8");
      lines = [];
      length = 0;
    }
  }
  if (lines.length > 0) {
    lines.push("");
    yield Buffer.from(lines.join("\n"), "utf8");
  }
}
