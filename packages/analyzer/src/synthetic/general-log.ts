/**
 * A synthetic MariaDB general query log for benchmarking the workload reader: N statements over
 * about 200 distinct shapes (lookups, ranges, joins, LIKE searches, aggregates, inserts, multi-row
 * inserts, updates, deletes) on the given tables, with varied literals, some statements over several
 * lines, some as Prepare + Execute, on several connections (some selecting their database with
 * Init DB). The same seed writes the same file.
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { RowRandom } from "@ferry/stack/random";

export interface SyntheticLogOptions {
  /** Statements (Query and Execute entries) to write. */
  statements: number;
  /** Table names the statements use (at least one). */
  tables: string[];
  seed: number;
  /** The database the connections use (default "app"). */
  database?: string;
}

/** Distinct statement shapes in a log. */
const SHAPES = 200;
const CONNECTIONS = 8;
const STATEMENTS_PER_SECOND = 2_000;
const WORDS = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper", "kestrel"];

/** A statement skeleton: `#` is a number, `$` a string, `%` a LIKE pattern, `@` a list of numbers. */
function skeletons(tables: readonly string[], random: RowRandom): string[] {
  const out = new Set<string>();
  const column = (i: number) => `c${i % 9}`;
  for (let attempt = 0; out.size < SHAPES && attempt < SHAPES * 50; attempt++) {
    const i = out.size;
    const t = tables[i % tables.length] as string;
    const u = tables[(i + 1 + random.below(Math.max(1, tables.length - 1))) % tables.length] as string;
    const a = column(random.below(9));
    const b = column(random.below(9));
    const list = `id, ${a}${a === b ? "" : `, ${b}`}`;
    let sql: string;
    switch (random.below(12)) {
      case 0:
        sql = `SELECT ${list} FROM ${t} WHERE id = #`;
        break;
      case 1:
        sql = `SELECT ${list} FROM ${t} WHERE ${a} = $ ORDER BY ${b} DESC LIMIT #`;
        break;
      case 2:
        sql = `SELECT ${list} FROM ${t} WHERE ${a} IN (@) AND ${b} >= #`;
        break;
      case 3:
        sql = `SELECT x.id, x.${a}, y.${b} FROM ${t} x JOIN ${u} y ON y.${t}_id = x.id WHERE x.${b} = # ORDER BY x.id LIMIT # OFFSET #`;
        break;
      case 4:
        sql = `SELECT ${list} FROM ${t} WHERE ${a} LIKE % ORDER BY ${a} LIMIT #`;
        break;
      case 5:
        sql = `SELECT ${a}, COUNT(*), SUM(${b}) FROM ${t} WHERE ${b} BETWEEN # AND # GROUP BY ${a}`;
        break;
      case 6:
        sql = `INSERT INTO ${t} (${list}) VALUES (${list
          .split(", ")
          .map((_, k) => (k % 2 === 0 ? "#" : "$"))
          .join(", ")})`;
        break;
      case 7:
        sql = `INSERT INTO ${t} (id, ${a}) VALUES (#, $), (#, $), (#, $)`;
        break;
      case 8:
        sql = `UPDATE ${t} SET ${a} = $, updated_at = NOW() WHERE id = # AND ${b} = #`;
        break;
      case 9:
        sql = `DELETE FROM ${t} WHERE ${a} = # LIMIT #`;
        break;
      case 10:
        sql = `SELECT ${list} FROM ${t} WHERE ${a} IS NULL AND ${b} != $ FOR UPDATE`;
        break;
      default:
        sql = `UPDATE ${t} SET ${a} = ${a} + # WHERE id IN (@)`;
    }
    out.add(sql);
  }
  return [...out];
}

function fill(skeleton: string, random: RowRandom): string {
  let out = "";
  for (const ch of skeleton) {
    if (ch === "#") out += String(random.below(100_000));
    else if (ch === "$") out += `'${random.pick(WORDS)} ${random.below(1000)}${random.below(20) === 0 ? "\\'s" : ""}'`;
    else if (ch === "%") {
      const word = random.pick(WORDS).slice(0, 2 + random.below(4));
      out += random.below(2) === 0 ? `'${word}%'` : `'%${word}%'`;
    } else if (ch === "@") {
      const n = 1 + random.below(6);
      out += Array.from({ length: n }, () => random.below(100_000)).join(", ");
    } else out += ch;
  }
  return out;
}

/** The same statement over several lines, as people write SQL in code. */
function multiline(sql: string): string {
  return sql.replace(/ (FROM|WHERE|ORDER BY|GROUP BY|VALUES|SET|LIMIT) /g, "\n  $1 ");
}

/** MariaDB's time column: `YYMMDD H:MM:SS`. */
function mariadbTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())} ${String(d.getUTCHours()).padStart(2, " ")}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/**
 * Writes a MariaDB-format general log of `statements` statements to `path` (deterministic from the
 * seed); returns the statements written (Query and Execute entries) and the file's size.
 */
export function writeSyntheticGeneralLog(
  path: string,
  options: SyntheticLogOptions,
): { statements: number; bytes: number } {
  if (options.tables.length === 0) throw new Error("writeSyntheticGeneralLog needs at least one table");
  const database = options.database ?? "app";
  const random = new RowRandom(options.seed, "general-log").at(0);
  const shapes = skeletons(options.tables, random);
  const fd = openSync(path, "w");
  let bytes = 0;
  let buffer = "";
  const flush = () => {
    bytes += writeSync(fd, buffer);
    buffer = "";
  };
  try {
    buffer += "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:\n";
    buffer += "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n";
    buffer += "Time\t\t    Id Command\tArgument\n";
    const start = Date.UTC(2026, 10, 21, 4, 0, 0);
    let lastSecond = -1;
    const line = (index: number, thread: number, command: string, argument: string) => {
      const second = Math.floor(index / STATEMENTS_PER_SECOND);
      const time = second === lastSecond ? "\t" : `${mariadbTime(start + second * 1000)}\t`;
      lastSecond = second;
      buffer += `${time}${String(thread).padStart(6, " ")} ${command}\t${argument}\n`;
    };
    const open = new Set<number>();
    let written = 0;
    while (written < options.statements) {
      const thread = 100 + random.below(CONNECTIONS);
      if (!open.has(thread)) {
        open.add(thread);
        if (random.below(2) === 0) {
          line(written, thread, "Connect", `app@10.0.0.${thread % 250} on ${database} using TCP/IP`);
        } else {
          line(written, thread, "Connect", `app@10.0.0.${thread % 250} on  using TCP/IP`);
          line(written, thread, "Init DB", database);
        }
      }
      const shape = shapes[random.below(shapes.length)] as string;
      let sql = fill(shape, random);
      if (random.below(10) === 0) sql = multiline(sql);
      if (random.below(12) === 0) {
        line(written, thread, "Prepare", shape.replace(/[#$%]/g, "?").replace(/@/g, "?"));
        line(written, thread, "Execute", sql);
      } else {
        line(written, thread, "Query", sql);
      }
      written++;
      if (random.below(500) === 0) {
        line(written, thread, "Quit", "");
        open.delete(thread);
      }
      if (buffer.length > 1 << 20) flush();
    }
    flush();
    return { statements: written, bytes };
  } finally {
    closeSync(fd);
  }
}
