import { randomBytes } from "node:crypto";
import { connectMysql, formatMysqlUrl, parseMysqlUrl, StackError, withDatabase } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CaptureOptions, captureGeneralLog } from "../src/workload/index.ts";

const stack = useTestStack();

async function logSettings(connection: Connection): Promise<{ generalLog: number; logOutput: string }> {
  const [rows] = await connection.query<RowDataPacket[]>(
    "SELECT @@GLOBAL.general_log AS generalLog, @@GLOBAL.log_output AS logOutput",
  );
  return { generalLog: Number(rows[0]?.generalLog), logOutput: String(rows[0]?.logOutput) };
}

/**
 * Starts a capture: `started` resolves once its window has begun (the statements sent from then on are recorded), or
 * rejects if the capture ends first; `capture` is the capture itself.
 */
function startCapture(connection: Connection, options: CaptureOptions) {
  let begun = () => {};
  const onStart = new Promise<void>((resolve) => {
    begun = resolve;
  });
  const capture = captureGeneralLog(connection, { ...options, onStart: () => begun() });
  const started = Promise.race([
    onStart,
    capture.then(() => {
      throw new Error("the capture ended before its window started");
    }),
  ]);
  return { capture, started };
}

/** The general log is on, to the table (asked on a connection without a database: not captured). */
async function expectLogOn(connection: Connection): Promise<void> {
  const now = await logSettings(connection);
  expect(now.generalLog).toBe(1);
  expect(now.logOutput).toContain("TABLE");
}

let admin: Connection;
let worker: Connection;

beforeAll(async () => {
  const db = await stack.mysql();
  await db.query("CREATE TABLE gadgets (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, stock INT NOT NULL)");
  admin = await connectMysql(stack.serverUrl);
  // Connected (to the file's database) before any capture starts.
  worker = await connectMysql(stack.mysqlUrl);
});

afterAll(async () => {
  await worker?.end();
  await admin?.end();
});

describe("captureGeneralLog", () => {
  it("records the statements run on the database during the window, and restores the settings", async () => {
    const before = await logSettings(admin);
    const capturer = await connectMysql(stack.serverUrl);
    const ticks: Array<[number, number]> = [];
    try {
      const wallStart = performance.now();
      const { capture, started } = startCapture(capturer, {
        // Long enough for the statements below to run inside it on a loaded machine (CI's cores take up to 50 times as
        // long as an idle machine's 0.2 s).
        seconds: 10,
        database: stack.database,
        onTick: (elapsed, seen) => ticks.push([elapsed, seen]),
      });
      await started;
      await expectLogOn(admin);
      for (let id = 1; id <= 3; id++) {
        await worker.query("INSERT INTO gadgets (id, name, stock) VALUES (?, ?, ?)", [id, `gadget ${id}`, id * 10]);
      }
      for (const id of [1, 2, 3, 2, 1]) await worker.query("SELECT name, stock FROM gadgets WHERE id = ?", [id]);
      await worker.query("UPDATE gadgets SET stock = stock - ? WHERE id = ? AND stock >= ?", [1, 2, 1]);
      await worker.execute("SELECT id FROM gadgets WHERE name LIKE ?", ["gadget%"]);
      // A connection made during the window, without a database, that switches to it with USE.
      const late = await connectMysql(stack.serverUrl);
      await late.query("SELECT 1 + 1");
      await late.query(`USE \`${stack.database}\``);
      await late.query("SELECT name, stock FROM gadgets WHERE id = 3");
      await late.end();
      // Another database's statements stay out.
      await worker.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql'");

      const workload = await capture;
      const wallSeconds = (performance.now() - wallStart) / 1000;
      expect(workload.origin).toBe("general_log table");
      // Bounds: the window is 10 s of the server's clock, read on a busy machine, inside the capture's own time.
      expect(workload.seconds).toBeGreaterThanOrEqual(9.9);
      expect(workload.seconds).toBeLessThanOrEqual(wallSeconds + 0.1);
      const counts = Object.fromEntries(workload.statements.map((s) => [s.sql, s.count]));
      expect(counts).toEqual({
        "INSERT INTO gadgets (id, name, stock) VALUES (?, ?, ?)": 3,
        "SELECT name, stock FROM gadgets WHERE id = ?": 6,
        "UPDATE gadgets SET stock = stock - ? WHERE id = ? AND stock >= ?": 1,
        "SELECT id FROM gadgets WHERE name LIKE ?": 1,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?": 1,
        [`USE ${stack.database}`]: 1,
      });
      expect(workload.queries).toBe(13);
      const select = workload.statements[0];
      expect(select?.sql).toBe("SELECT name, stock FROM gadgets WHERE id = ?");
      expect(select?.example).toBe("SELECT name, stock FROM gadgets WHERE id = 1");
      expect(select?.shape).toMatchObject({
        kind: "select",
        tables: ["gadgets"],
        conditions: [{ column: { table: "gadgets", column: "id" }, operator: "=" }],
      });
      const like = workload.statements.find((s) => s.sql.includes("LIKE"));
      expect(like?.example).toBe("SELECT id FROM gadgets WHERE name LIKE 'gadget%'");
      expect(like?.shape.conditions[0]?.operator).toBe("like-prefix");
      // Bounds: a tick comes about once a second, and counts what the log holds by then (other connections'
      // statements on the server too), so how many and what they saw depend on timing.
      expect(ticks.length).toBeGreaterThanOrEqual(1);
      expect(ticks.at(-1)?.[0]).toBeCloseTo(10, 0);
      expect(Math.max(...ticks.map(([, seen]) => seen))).toBeGreaterThanOrEqual(13);
    } finally {
      await capturer.end();
    }
    expect(await logSettings(admin)).toEqual(before);
  });

  /**
   * The capture learns the database of the connections open before its window from the server's process list, and
   * of the later ones from their Connect lines in the log. A connection opened on another database just before the
   * log comes on (or just after) must be in one or the other, or its statements are taken for the analysed
   * database's. The capturer's connection is wrapped so that the other connection opens at exactly that moment.
   */
  for (const moment of ["before", "after"] as const) {
    it(`leaves out the statements of a connection to another database opened just ${moment} the log comes on`, async () => {
      const capturer = await connectMysql(stack.serverUrl);
      let other: Connection | undefined;
      const openOther = async () => {
        other = await connectMysql(withDatabase(stack.serverUrl, "mysql"));
      };
      const wrapped = new Proxy(capturer, {
        get(target, property, receiver) {
          if (property !== "query") return Reflect.get(target, property, receiver);
          return async (...args: Parameters<Connection["query"]>) => {
            const switchesOn = typeof args[0] === "string" && /^SET GLOBAL general_log = 'ON'/.test(args[0]);
            if (switchesOn && moment === "before") await openOther();
            const result = await target.query(...args);
            if (switchesOn && moment === "after") await openOther();
            return result;
          };
        },
      });
      try {
        const { capture, started } = startCapture(wrapped, { seconds: 6, database: stack.database });
        await started;
        // The window starts after the log came on: by then the other connection is open.
        if (other === undefined) throw new Error("the capture never switched the log on (was it on already?)");
        await other.query("SELECT COUNT(*) FROM db WHERE Db = 'nothing'");
        await worker.query("SELECT stock FROM gadgets WHERE id = 2");
        const workload = await capture;
        expect(workload.statements.map((s) => [s.sql, s.count])).toEqual([
          ["SELECT stock FROM gadgets WHERE id = ?", 1],
        ]);
      } finally {
        await other?.end();
        await capturer.end();
      }
    });
  }

  it("restores the settings when the capture is aborted", async () => {
    const before = await logSettings(admin);
    const capturer = await connectMysql(stack.serverUrl);
    try {
      const controller = new AbortController();
      const { capture, started } = startCapture(capturer, {
        seconds: 30,
        database: stack.database,
        signal: controller.signal,
      });
      await started;
      await worker.query("SELECT name FROM gadgets WHERE id = 1");
      controller.abort();
      // The abort's own reason, as it is.
      await expect(capture).rejects.toBe(controller.signal.reason);
    } finally {
      await capturer.end();
    }
    expect(await logSettings(admin)).toEqual(before);
  });

  it("keeps a log_output that already includes TABLE, and the log on when it was on", async () => {
    const before = await logSettings(admin);
    await admin.query("SET GLOBAL log_output = 'FILE,TABLE'");
    const capturer = await connectMysql(stack.serverUrl);
    try {
      const { capture, started } = startCapture(capturer, { seconds: 6, database: stack.database });
      await started;
      expect((await logSettings(admin)).logOutput).toBe("FILE,TABLE");
      await worker.query("SELECT stock FROM gadgets WHERE id = 1");
      const workload = await capture;
      expect(workload.statements.map((s) => [s.sql, s.count])).toEqual([["SELECT stock FROM gadgets WHERE id = ?", 1]]);
      expect(await logSettings(admin)).toEqual({ generalLog: before.generalLog, logOutput: "FILE,TABLE" });
    } finally {
      await capturer.end();
      await admin.query("SET GLOBAL log_output = ?", [before.logOutput]);
    }
  });

  it("says what is missing when the account may not switch the log on", async () => {
    const user = `${stack.database.slice(0, 20)}_${randomBytes(3).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, password]);
    try {
      await admin.query(`GRANT SELECT ON \`${stack.database}\`.* TO ?@'%'`, [user]);
      const url = formatMysqlUrl({ ...parseMysqlUrl(stack.mysqlUrl), user, password });
      const limited = await connectMysql(url);
      try {
        const before = await logSettings(admin);
        const capture = captureGeneralLog(limited, { seconds: 1, database: stack.database });
        const error = await capture.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StackError);
        // The rest of the message is the server's own words (they differ between MariaDB and MySQL versions).
        expect((error as StackError).message).toMatch(/^cannot switch the general log on: Access denied/);
        expect((error as StackError).hint).toBe(
          "capturing needs SUPER (MariaDB) or SYSTEM_VARIABLES_ADMIN (MySQL 8) to switch the general log on, and SELECT on mysql.general_log; " +
            "ask an administrator for them, or give ferry a saved general log file instead (ferry analyze --workload FILE)",
        );
        expect(await logSettings(admin)).toEqual(before);
      } finally {
        await limited.end();
      }
    } finally {
      await admin.query("DROP USER ?@'%'", [user]);
    }
  });
});
