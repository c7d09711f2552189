import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { connectMysql, dynamoDbAnswers, dynamoDbClient, mysqlProblem, type StackState } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

/** How long a server that is up may take to answer a probe here: a ceiling for CI's loaded cores (the default is 2-5 s). */
const PROBE_MS = 30_000;

const stack = useTestStack();
const homes: string[] = [];

/** A fresh FERRY_HOME, with no MYSQL_URL / DYNAMODB_ENDPOINT inherited from the test run. */
function freshHome(extra: Record<string, string | undefined> = {}) {
  const home = mkdtempSync(join(tmpdir(), "ferry-cli-stack-"));
  homes.push(home);
  const env = { FERRY_HOME: home, MYSQL_URL: undefined, DYNAMODB_ENDPOINT: undefined, ...extra };
  return { home, env, state: () => JSON.parse(readFileSync(join(home, "stack.json"), "utf8")) as StackState };
}

/** True while the process runs: a zombie (exited, not yet reaped by init) counts as gone. */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 1).trim());
  } catch {
    // No /proc (macOS): kill(0) is all there is.
    return !existsSync("/proc/self");
  }
}

afterEach(async () => {
  // Whatever a test did, stop what it started.
  for (const home of homes.splice(0)) {
    await runCli(["stack", "down"], { FERRY_HOME: home });
    rmSync(home, { recursive: true, force: true });
  }
});

// Each test starts and stops real servers (MariaDB, and DynamoDB Local on a JVM), several times over: on a busy
// 2-core machine one such test takes a minute or more (the first one 309 s in one fresh-clone CI run, over 320 s in
// the next), so they get a ceiling against hangs well above that, not a speed goal.
describe("ferry stack", { timeout: 900_000 }, () => {
  it("up starts both servers, a second up reuses them, half-started parts are replaced, down stops them", async () => {
    const { env, state, home } = freshHome();
    const up = await runCli(["stack", "up"], env);
    expect(up.stderr + up.stdout).toContain("starting a private MariaDB");
    expect(up.code, up.stderr).toBe(0);
    const first = state();
    expect(first.mysql?.startedByFerry).toBe(true);
    expect(first.dynamodb?.inMemory).toBe(true);
    expect(up.stdout).toContain(first.mysql?.url);
    expect(up.stdout).toContain(first.dynamodb?.url);
    expect(await mysqlProblem(first.mysql?.url ?? "", PROBE_MS)).toBeUndefined();
    expect(await dynamoDbAnswers(first.dynamodb?.url ?? "", PROBE_MS)).toBe(true);
    expect(readFileSync(join(home, "stack.env"), "utf8")).toContain(`export MYSQL_URL='${first.mysql?.url}'`);
    expect(await runCli(["stack", "status"], env)).toMatchObject({ code: 0 });

    const again = await runCli(["stack", "up"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("already running");
    expect(state().mysql?.pid).toBe(first.mysql?.pid);
    expect(state().dynamodb?.pid).toBe(first.dynamodb?.pid);

    // `source .ferry/stack.env`: MYSQL_URL / DYNAMODB_ENDPOINT now name this stack's own servers, which
    // are reused as ours, not stopped to make way for "outside" ones.
    const sourced = await runCli(["stack", "up"], {
      ...env,
      MYSQL_URL: first.mysql?.url,
      DYNAMODB_ENDPOINT: first.dynamodb?.url,
    });
    expect(sourced.stderr).not.toContain("stopping the private server");
    expect(sourced.code, sourced.stderr).toBe(0);
    expect(state()).toEqual(first);
    expect(alive(first.mysql?.pid) && alive(first.dynamodb?.pid)).toBe(true);

    // Options a running server cannot take are refused, not silently ignored; nothing is changed.
    const persist = await runCli(["stack", "up", "--persist"], env);
    expect(persist.code).toBe(1);
    expect(persist.stderr).toContain(
      `error: DynamoDB Local already runs with its tables in memory (pid ${first.dynamodb?.pid}), so --persist cannot apply`,
    );
    expect(persist.stderr).toContain("run `pnpm ferry stack down` first");
    const otherPort = (first.mysql?.port ?? 0) === 1 ? 2 : 1;
    const moved = await runCli(["stack", "up", "--mysql-port", String(otherPort)], env);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain(`so --mysql-port ${otherPort} cannot apply`);
    expect(state()).toEqual(first);
    expect(alive(first.mysql?.pid) && alive(first.dynamodb?.pid)).toBe(true);

    // A half-started MariaDB (state written at spawn, never marked ready) is stopped and started again.
    const halfStarted = { ...first, mysql: { ...first.mysql, url: "" } };
    writeFileSync(join(home, "stack.json"), JSON.stringify(halfStarted));
    // DynamoDB Local killed behind ferry's back.
    process.kill(first.dynamodb?.pid ?? -1, "SIGKILL");
    const status = await runCli(["stack", "status"], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/dynamodb\s+DOWN/);

    const repaired = await runCli(["stack", "up"], env);
    expect(repaired.code, repaired.stderr).toBe(0);
    const second = state();
    expect(second.mysql?.pid).not.toBe(first.mysql?.pid);
    expect(second.dynamodb?.pid).not.toBe(first.dynamodb?.pid);
    expect(alive(first.mysql?.pid)).toBe(false);
    expect(await mysqlProblem(second.mysql?.url ?? "", PROBE_MS)).toBeUndefined();
    expect(await dynamoDbAnswers(second.dynamodb?.url ?? "", PROBE_MS)).toBe(true);

    // The server's temporary folder (beside its data folder) goes with it.
    const serverTmp = () => existsSync(`${second.mysql?.dataDir}.tmp`);
    expect(second.mysql?.dataDir).toBe(join(home, "mysql"));
    expect(serverTmp()).toBe(true);
    const down = await runCli(["stack", "down"], env);
    expect(down.code, down.stderr).toBe(0);
    expect(alive(second.mysql?.pid)).toBe(false);
    expect(alive(second.dynamodb?.pid)).toBe(false);
    expect(existsSync(join(home, "stack.json"))).toBe(false);
    expect(serverTmp()).toBe(false);
    expect((await runCli(["stack", "status"], env)).code).toBe(1);
  });

  it("--persist keeps DynamoDB Local's tables on disk across down and up", async () => {
    const { env, state, home } = freshHome();
    expect(await runCli(["stack", "up", "--persist"], env)).toMatchObject({ code: 0 });
    const endpoint = state().dynamodb?.url ?? "";
    expect(state().dynamodb?.inMemory).toBe(false);
    const client = dynamoDbClient(endpoint);
    await client.send(
      new CreateTableCommand({
        TableName: "kept",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    client.destroy();
    expect(await runCli(["stack", "down"], env)).toMatchObject({ code: 0 });
    expect(existsSync(join(home, "dynamodb"))).toBe(true);

    expect(await runCli(["stack", "up", "--persist"], env)).toMatchObject({ code: 0 });
    const again = dynamoDbClient(state().dynamodb?.url ?? "");
    const { TableNames } = await again.send(new ListTablesCommand({}));
    again.destroy();
    expect(TableNames).toEqual(["kept"]);
  });

  it("a FERRY_HOME with a space, and a data folder a broken first start left half made: MariaDB comes up", async () => {
    const home = mkdtempSync(join(tmpdir(), "ferry cli stack "));
    homes.push(home);
    // What an interrupted mariadb-install-db left: a data folder without all its system tables.
    mkdirSync(join(home, "mysql", "mysql"), { recursive: true });
    writeFileSync(join(home, "mysql", "aria_log_control"), "");
    const env = { FERRY_HOME: home, MYSQL_URL: undefined, DYNAMODB_ENDPOINT: stack.dynamodbEndpoint };
    const up = await runCli(["stack", "up"], env);
    expect(up.stderr).toContain("the data folder was only half made");
    expect(up.code, up.stderr).toBe(0);
    const state = JSON.parse(readFileSync(join(home, "stack.json"), "utf8")) as StackState;
    const connection = await connectMysql(state.mysql?.url ?? "");
    try {
      const [rows] = await connection.query(
        "SELECT @@datadir AS dir, @@tmpdir AS tmp, COUNT(*) AS users FROM mysql.global_priv",
      );
      // A path with a space: the server's temporary folder goes to the system's, not beside the data folder.
      expect(rows).toEqual([
        {
          dir: `${join(home, "mysql")}/`,
          tmp: expect.stringMatching(
            new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/ferry-mysql-[0-9a-f]{12}\\.tmp$`),
          ),
          users: expect.any(String),
        },
      ]);
    } finally {
      await connection.end();
    }
    const aside = readdirSync(home).filter((entry) => entry.startsWith("mysql.half-made-"));
    expect(aside).toHaveLength(1);
    // `down --purge` also removes what was moved aside.
    expect(await runCli(["stack", "down", "--purge"], env)).toMatchObject({ code: 0 });
    expect(readdirSync(home)).toEqual([]);
  });

  it("uses outside servers from MYSQL_URL / DYNAMODB_ENDPOINT and never stops them", async () => {
    const { env, state } = freshHome({ MYSQL_URL: stack.mysqlUrl, DYNAMODB_ENDPOINT: stack.dynamodbEndpoint });
    const up = await runCli(["stack", "up"], env);
    expect(up.code, up.stderr).toBe(0);
    expect(state().mysql).toEqual({ url: stack.mysqlUrl, startedByFerry: false });
    expect(state().dynamodb).toEqual({ url: stack.dynamodbEndpoint, startedByFerry: false });
    const down = await runCli(["stack", "down"], env);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain("left alone (not started by ferry)");
    expect(await mysqlProblem(stack.mysqlUrl, PROBE_MS)).toBeUndefined();
    expect(await dynamoDbAnswers(stack.dynamodbEndpoint, PROBE_MS)).toBe(true);
  });

  it("a MYSQL_URL that does not answer: a clear message and nothing started", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const { env, home } = freshHome({ MYSQL_URL: `mysql://root:secret@127.0.0.1:${closed}/store` });
    const up = await runCli(["stack", "up"], env);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`error: MYSQL_URL mysql://root:***@127.0.0.1:${closed}/store does not answer`);
    expect(up.stderr).toContain("unset MYSQL_URL to let ferry start a private MariaDB");
    expect(up.stderr).not.toContain("secret");
    expect(up.stderr).not.toContain("    at ");
    expect(existsSync(join(home, "stack.json"))).toBe(false);
    expect(existsSync(join(home, "logs"))).toBe(false);
  });

  it("a port in use: a clear message, and what was already started is stopped again", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const address = busy.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const { env, home } = freshHome();
      const up = await runCli(["stack", "up", "--dynamodb-port", String(port)], env);
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`error: port ${port} is already in use by another process`);
      expect(up.stderr).toContain("choose another with --dynamodb-port");
      // MariaDB had been started before the port check; it must be gone again.
      expect(up.stderr).toContain("starting a private MariaDB");
      const pidFile = join(home, "mysql", "mariadbd.pid");
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : undefined;
      expect(alive(pid)).toBe(false);
      expect(existsSync(join(home, "stack.json"))).toBe(false);
    } finally {
      busy.close();
    }
  });

  it("missing Java or mariadbd: one clear message with the install command, nothing started", async () => {
    const noJava = freshHome({ PATH: "/nonexistent", MYSQL_URL: stack.mysqlUrl });
    const java = await runCli(["stack", "up"], noJava.env);
    expect(java.code).toBe(1);
    expect(java.stderr).toContain("error: Java is not installed, and DynamoDB Local needs Java 17 or later");
    expect(java.stderr).toContain("sudo apt-get install default-jre-headless");
    expect(existsSync(join(noJava.home, "stack.json"))).toBe(false);

    const noMaria = freshHome({ PATH: "/nonexistent" });
    const maria = await runCli(["stack", "up"], noMaria.env);
    expect(maria.code).toBe(1);
    expect(maria.stderr).toContain("MariaDB's server binaries are not installed");
    expect(maria.stderr).toContain("sudo apt-get install mariadb-server");
    expect(maria.stderr.trim().split("\n")).toHaveLength(2);
    expect(existsSync(join(noMaria.home, "mysql"))).toBe(false);
  });
});
