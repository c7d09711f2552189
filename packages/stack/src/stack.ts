import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DYNAMODB_MARKER, dynamoDbAnswers, requireJava, startDynamoDb } from "./dynamodb.ts";
import { StackError } from "./errors.ts";
import { MARIADB_MARKER, mariaDbPidIn, mysqlProblem, redactMysqlUrl, requireMariadbd, startMariaDb } from "./mysql.ts";
import { ferryHome } from "./paths.ts";
import { freePort, isPortInUse, isRunning, stopProcess } from "./processes.ts";
import { readState, removeState, type StackPart, type StackState, withStackLock, writeState } from "./state.ts";

export interface StackUpOptions {
  /** Folder for state, data and logs; default `FERRY_HOME` or `<repo>/.ferry`. */
  home?: string;
  /** An outside MySQL/MariaDB to use instead of a private one (default: `MYSQL_URL`). */
  mysqlUrl?: string | undefined;
  /** An outside DynamoDB endpoint to use instead of DynamoDB Local (default: `DYNAMODB_ENDPOINT`). */
  dynamodbEndpoint?: string | undefined;
  /** Fixed ports for the private servers; a free port is picked when omitted. */
  mysqlPort?: number | undefined;
  dynamodbPort?: number | undefined;
  /** Keep DynamoDB Local's tables on disk under `<home>/dynamodb` instead of in memory. */
  persistDynamoDb?: boolean;
  /** Which parts to bring up (default both). */
  parts?: ReadonlyArray<"mysql" | "dynamodb">;
  /** Progress lines for a person. */
  onProgress?: (line: string) => void;
}

export interface PartStatus {
  name: "mysql" | "dynamodb";
  url: string;
  startedByFerry: boolean;
  pid?: number | undefined;
  running: boolean;
  answering: boolean;
  problem?: string | undefined;
}

type PartName = "mysql" | "dynamodb";
const MARKERS: Record<PartName, string> = { mysql: MARIADB_MARKER, dynamodb: DYNAMODB_MARKER };

/**
 * Brings the local stack up: reuses whatever already runs and answers, replaces what is half-started,
 * and starts what is missing. If anything fails, whatever this call started is stopped again.
 */
export async function stackUp(options: StackUpOptions = {}): Promise<StackState> {
  const home = options.home ?? ferryHome();
  const progress = options.onProgress ?? (() => undefined);
  const mysqlUrl = options.mysqlUrl ?? (process.env.MYSQL_URL || undefined);
  const dynamodbEndpoint = options.dynamodbEndpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);

  return withStackLock(home, async () => {
    const state = readState(home);
    const startedNow: number[] = [];
    const save = () => writeState(home, state);
    try {
      // MySQL first: an outside URL that does not answer should fail before anything is started.
      const wants = (part: PartName) => (options.parts ?? ["mysql", "dynamodb"]).includes(part);
      // Missing tools fail here, before anything is started.
      if (wants("mysql") && !mysqlUrl) requireMariadbd();
      if (wants("dynamodb") && !dynamodbEndpoint) requireJava();
      if (!wants("mysql")) {
        // not asked for
      } else if (mysqlUrl) {
        const problem = await mysqlProblem(mysqlUrl);
        if (problem) {
          throw new StackError(`MYSQL_URL ${redactMysqlUrl(mysqlUrl)} does not answer: ${problem}`, {
            hint: "check that the server runs and the URL is right, or unset MYSQL_URL to let ferry start a private MariaDB",
          });
        }
        await retireOwned(state, "mysql", progress);
        state.mysql = { url: mysqlUrl, startedByFerry: false };
        progress(`mysql     using ${redactMysqlUrl(mysqlUrl)} (MYSQL_URL)`);
      } else {
        const dataDir = join(home, "mysql");
        if (!(await reuseOwned(state, "mysql", progress))) {
          await stopStray(mariaDbPidIn(dataDir), "a MariaDB left running on this data folder", progress);
          const port = await choosePort(options.mysqlPort, state.mysql?.port, "--mysql-port");
          progress(`mysql     starting a private MariaDB on port ${port} (${dataDir})`);
          const logFile = join(home, "logs", "mysql.log");
          const started = await startMariaDb({ port, dataDir, logFile }, (pid) => {
            startedNow.push(pid);
            state.mysql = { url: "", startedByFerry: true, pid, port, dataDir, logFile };
            save();
          });
          state.mysql = { url: started.url, startedByFerry: true, pid: started.pid, port, dataDir, logFile };
          save();
        }
      }

      if (!wants("dynamodb")) {
        // not asked for
      } else if (dynamodbEndpoint) {
        if (!(await dynamoDbAnswers(dynamodbEndpoint, 5_000))) {
          throw new StackError(`DYNAMODB_ENDPOINT ${dynamodbEndpoint} does not answer ListTables`, {
            hint: "check the endpoint, or unset DYNAMODB_ENDPOINT to let ferry start DynamoDB Local",
          });
        }
        await retireOwned(state, "dynamodb", progress);
        state.dynamodb = { url: dynamodbEndpoint, startedByFerry: false };
        progress(`dynamodb  using ${dynamodbEndpoint} (DYNAMODB_ENDPOINT)`);
      } else if (!(await reuseOwned(state, "dynamodb", progress))) {
        const port = await choosePort(options.dynamodbPort, state.dynamodb?.port, "--dynamodb-port");
        const dataDir = options.persistDynamoDb ? join(home, "dynamodb") : undefined;
        progress(`dynamodb  starting DynamoDB Local on port ${port} (${dataDir ?? "in memory"})`);
        const logFile = join(home, "logs", "dynamodb.log");
        const inMemory = dataDir === undefined;
        const started = await startDynamoDb({ port, dataDir, logFile }, (pid) => {
          startedNow.push(pid);
          state.dynamodb = { url: "", startedByFerry: true, pid, port, dataDir, logFile, inMemory };
          save();
        });
        state.dynamodb = {
          url: started.endpoint,
          startedByFerry: true,
          pid: started.pid,
          port,
          dataDir,
          logFile,
          inMemory,
        };
      }
      save();
      return state;
    } catch (error) {
      // Leave nothing running that this call started.
      await Promise.all(startedNow.map((pid) => stopProcess(pid)));
      for (const name of ["mysql", "dynamodb"] as const) {
        const pid = state[name]?.pid;
        if (pid !== undefined && startedNow.includes(pid)) delete state[name];
      }
      if (state.mysql || state.dynamodb) save();
      else removeState(home);
      throw error;
    }
  });
}

/** Stops what `up` started (never an outside server) and forgets the stack. */
export async function stackDown(options: { home?: string; purge?: boolean; onProgress?: (line: string) => void } = {}) {
  const home = options.home ?? ferryHome();
  const progress = options.onProgress ?? (() => undefined);
  return withStackLock(home, async () => {
    const state = readState(home);
    const stopped: PartName[] = [];
    await Promise.all(
      (["dynamodb", "mysql"] as const).map(async (name) => {
        const part = state[name];
        if (!part) return;
        if (!part.startedByFerry) {
          progress(`${name.padEnd(9)} left alone (not started by ferry): ${displayUrl(part.url)}`);
          return;
        }
        if (part.pid !== undefined && isRunning(part.pid, MARKERS[name])) {
          await stopProcess(part.pid, 30_000);
          stopped.push(name);
          progress(`${name.padEnd(9)} stopped (pid ${part.pid})`);
        } else {
          progress(`${name.padEnd(9)} was not running`);
        }
      }),
    );
    // A MariaDB on our data folder that the state file lost track of (a crashed `up`).
    const stray = mariaDbPidIn(join(home, "mysql"));
    if (stray !== undefined) {
      await stopProcess(stray, 30_000);
      if (!stopped.includes("mysql")) stopped.push("mysql");
      progress(`mysql     stopped a MariaDB left running on ${join(home, "mysql")} (pid ${stray})`);
    }
    removeState(home);
    if (options.purge) {
      for (const dir of ["mysql", "dynamodb", "logs"]) rmSync(join(home, dir), { recursive: true, force: true });
      progress(`purged    data and logs under ${home}`);
    }
    return { stopped };
  });
}

/** What the state file says, checked against what actually runs and answers. */
export async function stackStatus(options: { home?: string } = {}): Promise<PartStatus[]> {
  const home = options.home ?? ferryHome();
  const state = readState(home);
  const result: PartStatus[] = [];
  for (const name of ["mysql", "dynamodb"] as const) {
    const part = state[name];
    if (!part) continue;
    const running = part.pid === undefined ? true : isRunning(part.pid, MARKERS[name]);
    const problem = running ? await partProblem(name, part) : "not running";
    result.push({
      name,
      url: part.url,
      startedByFerry: part.startedByFerry,
      pid: part.pid,
      running,
      answering: problem === undefined,
      problem,
    });
  }
  return result;
}

export function stackIsEmpty(home = ferryHome()): boolean {
  return !existsSync(join(home, "stack.json"));
}

/** The URL to show a person (passwords hidden). */
export function displayUrl(url: string): string {
  return url.startsWith("http") ? url : redactMysqlUrl(url);
}

async function partProblem(name: PartName, part: StackPart): Promise<string | undefined> {
  if (!part.url) return "half-started";
  if (name === "mysql") return mysqlProblem(part.url, 2_000);
  return (await dynamoDbAnswers(part.url, 2_000)) ? undefined : "does not answer ListTables";
}

/** Keeps a part this stack started earlier if it still runs and answers; stops it if it only half runs. */
async function reuseOwned(state: StackState, name: PartName, progress: (line: string) => void): Promise<boolean> {
  const part = state[name];
  if (!part?.startedByFerry || part.pid === undefined) return false;
  if (!isRunning(part.pid, MARKERS[name])) {
    delete state[name];
    return false;
  }
  if (part.url && (await partProblem(name, part)) === undefined) {
    progress(`${name.padEnd(9)} already running: ${displayUrl(part.url)} (pid ${part.pid})`);
    return true;
  }
  progress(`${name.padEnd(9)} pid ${part.pid} runs but does not answer: stopping it and starting again`);
  await stopProcess(part.pid);
  delete state[name];
  return false;
}

/** An outside server replaces one ferry started: stop ours so nothing is left orphaned. */
async function retireOwned(state: StackState, name: PartName, progress: (line: string) => void): Promise<void> {
  const part = state[name];
  if (part?.startedByFerry && part.pid !== undefined && isRunning(part.pid, MARKERS[name])) {
    progress(`${name.padEnd(9)} stopping the private server (pid ${part.pid}): an outside one is configured now`);
    await stopProcess(part.pid);
  }
  delete state[name];
}

async function stopStray(pid: number | undefined, what: string, progress: (line: string) => void): Promise<void> {
  if (pid === undefined) return;
  progress(`mysql     stopping ${what} (pid ${pid})`);
  await stopProcess(pid);
}

/** A requested port must be free; otherwise the previous port if still free, else any free port. */
async function choosePort(requested: number | undefined, previous: number | undefined, flag: string): Promise<number> {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > 65535) {
      throw new StackError(`${flag} must be a port number from 1 to 65535, not ${requested}`);
    }
    if (await isPortInUse(requested)) {
      throw new StackError(`port ${requested} is already in use by another process`, {
        hint: `choose another with ${flag}, or leave ${flag} out to pick a free port`,
      });
    }
    return requested;
  }
  if (previous !== undefined && !(await isPortInUse(previous))) return previous;
  return freePort();
}
