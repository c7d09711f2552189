/**
 * The throw-away home folders of test runs (`ferry-test-*` under the OS temp folder). Each names the runner
 * that owns it (vitest's main process), so that when a runner is killed before its teardown (turbo stopping
 * a failing package's siblings, a timeout), a later run can tell its stack is abandoned, stop it and remove it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeError } from "./errors.ts";
import { isRunning, processStartTime } from "./processes.ts";
import { stopStack } from "./stack.ts";
import { withStackLock } from "./state.ts";

const HOME_PREFIX = "ferry-test-";
const RUNNER_FILE = "runner.json";

/** The process that owns a test home: its pid and start time, which tells it from a later process given its pid. */
export interface TestRunner {
  pid: number;
  startTime: string | undefined;
}

/** Makes a test home in `root` owned by this process; the runner file is there before anything is started in it. */
export function makeTestHome(root = tmpdir()): string {
  const home = mkdtempSync(join(root, HOME_PREFIX));
  const runner: TestRunner = { pid: process.pid, startTime: processStartTime(process.pid) };
  const file = join(home, RUNNER_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(runner)}\n`);
  renameSync(`${file}.tmp`, file);
  return home;
}

/** The runner a test home names, or undefined when it names none (yet). */
export function readTestRunner(home: string): TestRunner | undefined {
  try {
    const runner = JSON.parse(readFileSync(join(home, RUNNER_FILE), "utf8")) as Partial<TestRunner>;
    return typeof runner.pid === "number" ? { pid: runner.pid, startTime: runner.startTime } : undefined;
  } catch {
    return undefined;
  }
}

function runnerIsAlive(runner: TestRunner): boolean {
  return isRunning(runner.pid) && processStartTime(runner.pid) === runner.startTime;
}

const SERVER_NAMES = { mysql: "MariaDB", dynamodb: "DynamoDB Local" } as const;

/**
 * Stops the stacks of earlier test runs whose runner is gone and removes their homes, with one line to
 * `report` per home. A server is stopped by the pid its stack.json records, and only while that pid is still
 * the server on that stack's data folder or port (see `stopStack`). Left strictly alone: homes whose runner
 * still runs (parallel runs), and homes that name no runner: one being made right now, or one made by a ferry
 * from before runner files, whose runner cannot be told.
 */
export async function cleanAbandonedTestHomes(
  root = tmpdir(),
  report: (line: string) => void = (line) => console.warn(line),
): Promise<void> {
  for (const entry of readdirSync(root).filter((name) => name.startsWith(HOME_PREFIX))) {
    const home = join(root, entry);
    const runner = readTestRunner(home);
    if (runner === undefined || runnerIsAlive(runner)) continue;
    try {
      const line = await cleanAbandonedHome(home, runner);
      if (line !== undefined) report(line);
    } catch (error) {
      report(`ferry: could not clean up ${home}, left by test runner pid ${runner.pid}: ${describeError(error)}`);
    }
  }
}

/** Stops the stack in `home` and removes it; undefined when another run did so first. */
async function cleanAbandonedHome(home: string, runner: TestRunner): Promise<string | undefined> {
  try {
    // Under the stack lock, so two runs starting together clean a home once; the first removes it, which
    // makes the other's wait end in ENOENT.
    return await withStackLock(
      home,
      async () => {
        const { processes } = await stopStack(home);
        rmSync(home, { recursive: true, force: true, maxRetries: 3 });
        const stopped =
          processes.length > 0
            ? `stopped ${processes.map(({ name, pid }) => `${SERVER_NAMES[name]} (pid ${pid})`).join(" and ")}`
            : "none of its servers was still running";
        return `ferry: a test run ended without its teardown (its runner, pid ${runner.pid}, is gone): ${stopped}; removed ${home}`;
      },
      { createHome: false },
    );
  } catch (error) {
    // Another run removed the home first: it is gone, or its runner file already is (the removal is under way).
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && (!existsSync(home) || !readTestRunner(home))) {
      return undefined;
    }
    throw error;
  }
}
