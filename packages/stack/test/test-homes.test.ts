import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { dynamoDbIdentity } from "../src/dynamodb.ts";
import { mariaDbIdentity } from "../src/mysql.ts";
import { isRunning } from "../src/processes.ts";
import { stackDown } from "../src/stack.ts";
import { readState, writeState } from "../src/state.ts";
import { cleanAbandonedTestHomes, makeTestHome, readTestRunner, type TestRunner } from "../src/test-homes.ts";
import { killLookalikes, lookalike } from "./fixtures/lookalike.ts";

const runnerScript = fileURLToPath(new URL("./fixtures/test-runner.ts", import.meta.url));
// Each test makes its homes in a root of its own, not in the OS temp folder: it never sees the homes of real test
// runs, nor those of another test here (a runner that failed to start its stack leaves its home).
const roots: string[] = [];
const runners: ChildProcess[] = [];
function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "ferry-homes-"));
  roots.push(root);
  return root;
}

afterEach(killLookalikes);
afterAll(async () => {
  for (const runner of runners) runner.kill("SIGKILL");
  for (const root of roots) {
    // Whatever a failed test left running is stopped the way `ferry stack down` stops it.
    for (const entry of readdirSync(root)) await stackDown({ home: join(root, entry) }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
});

/** Starts a stack in a child process the way a test run's global setup does; resolves to its home once it is up. */
function startRunner(root: string): Promise<{ runner: ChildProcess; home: string }> {
  const env = { ...process.env };
  delete env.MYSQL_URL;
  delete env.DYNAMODB_ENDPOINT;
  const runner = spawn(process.execPath, ["--import", "tsx", runnerScript, root], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  runners.push(runner);
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    runner.stdout?.on("data", (chunk) => {
      stdout += chunk;
      if (stdout.endsWith("\n")) resolve({ runner, home: stdout.trim() });
    });
    runner.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    runner.once("exit", (code) => reject(new Error(`the runner exited (${code}) before its stack was up:\n${stderr}`)));
  });
}

function recordedPid(pid: number | undefined): number {
  if (pid === undefined) throw new Error("stack.json names no pid");
  return pid;
}

describe("cleaning up after test runs killed before their teardown", () => {
  it("stops the stack of a runner that was SIGKILLed, by its recorded pids, removes its home and says so", async () => {
    const root = newRoot();
    const { runner, home } = await startRunner(root);
    const { mysql, dynamodb } = readState(home);
    const mariaDbPid = recordedPid(mysql?.pid);
    const dynamoDbPid = recordedPid(dynamodb?.pid);
    const mariaDb = mariaDbIdentity(join(home, "mysql"));
    const dynamoDb = dynamoDbIdentity(dynamodb?.port ?? 0);
    expect(readTestRunner(home)?.pid).toBe(runner.pid);

    runner.kill("SIGKILL");
    await new Promise((resolve) => runner.once("exit", resolve));
    // What the clean-up is for: the killed runner's servers outlive it.
    expect(isRunning(mariaDbPid, mariaDb)).toBe(true);
    expect(isRunning(dynamoDbPid, dynamoDb)).toBe(true);

    const lines: string[] = [];
    await cleanAbandonedTestHomes(root, (line) => lines.push(line));
    expect(lines).toEqual([
      `ferry: a test run ended without its teardown (its runner, pid ${runner.pid}, is gone): ` +
        `stopped MariaDB (pid ${mariaDbPid}) and DynamoDB Local (pid ${dynamoDbPid}); removed ${home}`,
    ]);
    expect(isRunning(mariaDbPid, mariaDb)).toBe(false);
    expect(isRunning(dynamoDbPid, dynamoDb)).toBe(false);
    expect(existsSync(home)).toBe(false);
  }, 600_000); // the runner's stack may take up to READY_TIMEOUT_MS (300 s) to answer on a loaded machine

  it("leaves alone a live runner's stack, a home that names no runner yet, and pids that other programs use now", async () => {
    /** A stack.json naming these processes as the home's own MariaDB and DynamoDB Local (port 8123). */
    const recordStack = (home: string, [mariaDbPid, dynamoDbPid]: number[]) =>
      writeState(home, {
        version: 1,
        mysql: { url: "mysql://root@127.0.0.1:1", startedByFerry: true, pid: mariaDbPid, dataDir: join(home, "mysql") },
        dynamodb: { url: "http://127.0.0.1:8123", startedByFerry: true, pid: dynamoDbPid, port: 8123, inMemory: true },
      });
    const ownServers = async (home: string) => [
      await lookalike("/usr/sbin/mariadbd", `--datadir=${join(home, "mysql")}`),
      await lookalike("-jar", "/x/DynamoDBLocal.jar", "-port", "8123"),
    ];

    const root = newRoot();
    // The runner is this very process, so it is alive: a test run going on in parallel.
    const live = makeTestHome(root);
    const liveServers = await ownServers(live);
    recordStack(live, liveServers);
    // Being made by a run right now: it names no runner yet.
    const making = mkdtempSync(join(root, "ferry-test-"));
    const makingServers = await ownServers(making);
    recordStack(making, makingServers);
    // Abandoned, and every pid it records was given to another process since: its runner's pid now names a
    // process that started later (this one), and its servers' pids another MariaDB and another DynamoDB Local.
    const abandoned = makeTestHome(root);
    const reusedRunner: TestRunner = { pid: process.pid, startTime: "0" };
    writeFileSync(join(abandoned, "runner.json"), JSON.stringify(reusedRunner));
    const otherServers = [
      await lookalike("/usr/sbin/mariadbd", "--datadir=/var/lib/mysql"),
      await lookalike("-jar", "/x/DynamoDBLocal.jar", "-port", "8000"),
    ];
    recordStack(abandoned, otherServers);

    // Two runs starting at once: the home is cleaned, and reported, once.
    const lines: string[] = [];
    await Promise.all([
      cleanAbandonedTestHomes(root, (line) => lines.push(line)),
      cleanAbandonedTestHomes(root, (line) => lines.push(line)),
    ]);
    expect(lines).toEqual([
      `ferry: a test run ended without its teardown (its runner, pid ${process.pid}, is gone): ` +
        `none of its servers was still running; removed ${abandoned}`,
    ]);
    expect([existsSync(live), existsSync(making), existsSync(abandoned)]).toEqual([true, true, false]);
    for (const pid of [...liveServers, ...makingServers, ...otherServers]) expect(isRunning(pid)).toBe(true);
  });
});
