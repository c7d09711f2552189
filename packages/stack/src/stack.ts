import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { dynamoDbAnswers, dynamoDbIdentity, requireJava, startDynamoDb } from "./dynamodb.ts";
import { StackError } from "./errors.ts";
import {
  mariaDbIdentity,
  mariaDbPidIn,
  mysqlProblem,
  redactMysqlUrl,
  removeServerTmpdir,
  requireMariadbd,
  startMariaDb,
} from "./mysql.ts";
import { ferryHome } from "./paths.ts";
import { freePort, isPortInUse, isRunning, type ProcessIdentity, stopProcess } from "./processes.ts";
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
  /**
   * Keep DynamoDB Local's tables on disk under `<home>/dynamodb` (true) or in memory (false). When
   * omitted: in memory for a new DynamoDB Local, and a running one is kept as it is.
   */
  persistDynamoDb?: boolean | undefined;
  /** Which parts to bring up (default both). */
  parts?: ReadonlyArray<"mysql" | "dynamodb">;
  /** Progress lines for a person. */
  onProgress?: (line: string) => void;
  /** How long a private server may take to answer once started (default `READY_TIMEOUT_MS`, 300 s, each). */
  readyTimeoutMs?: number | undefined;
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

/** What the process of a part ferry started must be: the MariaDB on its data folder, the DynamoDB Local on its port. */
function partIdentity(home: string, name: PartName, part: StackPart): ProcessIdentity {
  if (name === "mysql") return mariaDbIdentity(part.dataDir ?? join(home, "mysql"));
  // A DynamoDB Local recorded without its port (never written so) can be told from no other.
  return part.port === undefined ? () => false : dynamoDbIdentity(part.port);
}

/**
 * True when the process the state file names for a part ferry started is still that server (not an
 * unrelated process that got the pid after a reboot, nor a system MariaDB).
 */
function ownedRuns(home: string, name: PartName, part: StackPart | undefined): part is StackPart & { pid: number } {
  if (!part?.startedByFerry || part.pid === undefined) return false;
  return isRunning(part.pid, partIdentity(home, name, part));
}

/** Stops the process of a part ferry started, and only while it is still that server. */
function stopOwned(home: string, name: PartName, part: StackPart & { pid: number }, graceMs?: number) {
  return stopProcess(part.pid, { identity: partIdentity(home, name, part), graceMs });
}

/**
 * Brings the local stack up: reuses whatever already runs and answers, replaces what is half-started,
 * and starts what is missing. If anything fails, whatever this call started is stopped again.
 */
export async function stackUp(options: StackUpOptions = {}): Promise<StackState> {
  const home = options.home ?? ferryHome();
  const progress = options.onProgress ?? (() => undefined);
  const mysqlEnv = options.mysqlUrl ?? (process.env.MYSQL_URL || undefined);
  const dynamodbEnv = options.dynamodbEndpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);

  return withStackLock(home, async () => {
    const state = readState(home);
    const startedNow: number[] = [];
    const save = () => writeState(home, state);
    // `source .ferry/stack.env` exports the URLs of this stack's own servers: those are not outside ones.
    const ownUrl = (name: PartName, url: string | undefined) =>
      url !== undefined && state[name]?.url === url && ownedRuns(home, name, state[name]);
    const mysqlUrl = ownUrl("mysql", mysqlEnv) ? undefined : mysqlEnv;
    const dynamodbEndpoint = ownUrl("dynamodb", dynamodbEnv) ? undefined : dynamodbEnv;
    try {
      // MySQL first: an outside URL that does not answer should fail before anything is started.
      const wants = (part: PartName) => (options.parts ?? ["mysql", "dynamodb"]).includes(part);
      // Missing tools, and options a running server cannot take, fail here, before anything is started.
      if (wants("mysql") && !mysqlUrl) {
        requireMariadbd();
        refuseChanges(home, state, "mysql", options);
      }
      if (wants("dynamodb") && !dynamodbEndpoint) {
        requireJava();
        refuseChanges(home, state, "dynamodb", options);
      }
      if (!wants("mysql")) {
        // not asked for
      } else if (mysqlUrl) {
        // A server of the user's own gets as long to answer as a running one of ferry's (a busy one is not a dead one).
        const problem = await mysqlProblem(mysqlUrl, REUSE_PROBE_MS);
        if (problem) {
          throw new StackError(`MYSQL_URL ${redactMysqlUrl(mysqlUrl)} does not answer: ${problem}`, {
            hint: "check that the server runs and the URL is right, or unset MYSQL_URL to let ferry start a private MariaDB",
          });
        }
        await retireOwned(home, state, "mysql", progress);
        state.mysql = { url: mysqlUrl, startedByFerry: false };
        progress(`mysql     using ${redactMysqlUrl(mysqlUrl)} (MYSQL_URL)`);
      } else {
        const dataDir = join(home, "mysql");
        if (!(await reuseOwned(home, state, "mysql", progress))) {
          await stopStray(dataDir, progress);
          const port = await choosePort(options.mysqlPort, state.mysql?.port, "--mysql-port");
          progress(`mysql     starting a private MariaDB on port ${port} (${dataDir})`);
          const logFile = join(home, "logs", "mysql.log");
          const started = await startMariaDb(
            { port, dataDir, logFile, onProgress: progress, readyTimeoutMs: options.readyTimeoutMs },
            (pid) => {
              startedNow.push(pid);
              state.mysql = { url: "", startedByFerry: true, pid, port, dataDir, logFile };
              save();
            },
          );
          state.mysql = { url: started.url, startedByFerry: true, pid: started.pid, port, dataDir, logFile };
          save();
        }
      }

      if (!wants("dynamodb")) {
        // not asked for
      } else if (dynamodbEndpoint) {
        if (!(await dynamoDbAnswers(dynamodbEndpoint, REUSE_PROBE_MS))) {
          throw new StackError(`DYNAMODB_ENDPOINT ${dynamodbEndpoint} does not answer ListTables`, {
            hint: "check the endpoint, or unset DYNAMODB_ENDPOINT to let ferry start DynamoDB Local",
          });
        }
        await retireOwned(home, state, "dynamodb", progress);
        state.dynamodb = { url: dynamodbEndpoint, startedByFerry: false };
        progress(`dynamodb  using ${dynamodbEndpoint} (DYNAMODB_ENDPOINT)`);
      } else if (!(await reuseOwned(home, state, "dynamodb", progress))) {
        const port = await choosePort(options.dynamodbPort, state.dynamodb?.port, "--dynamodb-port");
        const dataDir = options.persistDynamoDb ? join(home, "dynamodb") : undefined;
        progress(`dynamodb  starting DynamoDB Local on port ${port} (${dataDir ?? "in memory"})`);
        const logFile = join(home, "logs", "dynamodb.log");
        const inMemory = dataDir === undefined;
        const started = await startDynamoDb(
          { port, dataDir, logFile, readyTimeoutMs: options.readyTimeoutMs },
          (pid) => {
            startedNow.push(pid);
            state.dynamodb = { url: "", startedByFerry: true, pid, port, dataDir, logFile, inMemory };
            save();
          },
        );
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
      await Promise.all(
        (["mysql", "dynamodb"] as const).map(async (name) => {
          const part = state[name];
          if (part?.pid === undefined || !startedNow.includes(part.pid)) return;
          await stopOwned(home, name, { ...part, pid: part.pid }).catch(() => undefined);
          delete state[name];
        }),
      );
      if (state.mysql || state.dynamodb) save();
      else removeState(home);
      throw error;
    }
  });
}

/**
 * A running server of ours is reused as it is, so an explicit option it does not match would be
 * silently ignored (worst: `--persist` on an in-memory DynamoDB Local, whose tables `down` loses).
 */
function refuseChanges(home: string, state: StackState, name: PartName, options: StackUpOptions): void {
  const part = state[name];
  if (!part?.url || !ownedRuns(home, name, part)) return;
  const what = name === "mysql" ? "the private MariaDB" : "DynamoDB Local";
  const flag = name === "mysql" ? "--mysql-port" : "--dynamodb-port";
  const port = name === "mysql" ? options.mysqlPort : options.dynamodbPort;
  if (port !== undefined && port !== part.port) {
    throw new StackError(
      `${what} already runs on port ${part.port} (pid ${part.pid}), so ${flag} ${port} cannot apply`,
      {
        hint: `leave ${flag} out to keep using it, or run \`pnpm ferry stack down\` first to start it again on port ${port}`,
      },
    );
  }
  if (name === "dynamodb" && options.persistDynamoDb !== undefined) {
    const inMemory = part.inMemory ?? part.dataDir === undefined;
    if (options.persistDynamoDb === inMemory) {
      throw new StackError(
        inMemory
          ? `DynamoDB Local already runs with its tables in memory (pid ${part.pid}), so --persist cannot apply`
          : `DynamoDB Local already runs with its tables on disk in ${part.dataDir} (pid ${part.pid})`,
        {
          hint: inMemory
            ? "run `pnpm ferry stack down` first (its in-memory tables are lost then), then `pnpm ferry stack up --persist`"
            : "run `pnpm ferry stack down` first to start it again with its tables in memory",
        },
      );
    }
  }
}

export interface StackDownOptions {
  home?: string;
  purge?: boolean;
  onProgress?: (line: string) => void;
}

export interface StackDownResult {
  /** The parts whose server was stopped. */
  stopped: PartName[];
  /** The processes stopped. */
  processes: Array<{ name: PartName; pid: number }>;
}

/** Stops what `up` started (never an outside server) and forgets the stack. */
export async function stackDown(options: StackDownOptions = {}): Promise<StackDownResult> {
  const home = options.home ?? ferryHome();
  return withStackLock(home, () => stopStack(home, options));
}

/**
 * The work of `stackDown`, for a caller that holds the stack lock already. A recorded pid is signalled only
 * while it still is that server (the MariaDB on this stack's data folder, the DynamoDB Local on its port),
 * never another process that got the pid since.
 */
export async function stopStack(home: string, options: Omit<StackDownOptions, "home"> = {}): Promise<StackDownResult> {
  const progress = options.onProgress ?? (() => undefined);
  const state = readState(home);
  const stoppedParts = await Promise.all(
    (["mysql", "dynamodb"] as const).map(async (name) => {
      const part = state[name];
      if (!part) return [];
      if (!part.startedByFerry) {
        progress(`${name.padEnd(9)} left alone (not started by ferry): ${displayUrl(part.url)}`);
        return [];
      }
      if (ownedRuns(home, name, part) && (await stopOwned(home, name, part, 30_000))) {
        progress(`${name.padEnd(9)} stopped (pid ${part.pid})`);
        return [{ name, pid: part.pid }];
      }
      progress(`${name.padEnd(9)} was not running`);
      return [];
    }),
  );
  const processes: StackDownResult["processes"] = stoppedParts.flat();
  // A MariaDB on our data folder that the state file lost track of (a crashed `up`).
  const mysqlDir = join(home, "mysql");
  const stray = mariaDbPidIn(mysqlDir);
  if (stray !== undefined && (await stopProcess(stray, { identity: mariaDbIdentity(mysqlDir), graceMs: 30_000 }))) {
    processes.push({ name: "mysql", pid: stray });
    progress(`mysql     stopped a MariaDB left running on ${mysqlDir} (pid ${stray})`);
  }
  const stopped = [...new Set(processes.map((stoppedProcess) => stoppedProcess.name))];
  // The stopped server's temporary folder (beside its data folder, or in the system's temp folder).
  if (stopped.includes("mysql")) removeServerTmpdir(state.mysql?.dataDir ?? mysqlDir);
  removeState(home);
  if (options.purge) {
    // Also what a broken first start left: mysql.half-made-<time> and mysql.installing-<pid>.
    const leftovers = existsSync(home)
      ? readdirSync(home).filter((entry) => /^mysql\.(half-made|installing)-/.test(entry))
      : [];
    for (const dir of ["mysql", "dynamodb", "logs", ...leftovers]) {
      rmSync(join(home, dir), { recursive: true, force: true });
    }
    // A server that was not stopped here (it had died) leaves its temporary folder.
    removeServerTmpdir(state.mysql?.dataDir ?? mysqlDir);
    progress(`purged    data and logs under ${home}`);
  }
  return { stopped, processes };
}

/** What the state file says, checked against what actually runs and answers. */
export async function stackStatus(options: { home?: string } = {}): Promise<PartStatus[]> {
  const home = options.home ?? ferryHome();
  const state = readState(home);
  // Both asked at once: a slow server costs its own wait only.
  const parts = await Promise.all(
    (["mysql", "dynamodb"] as const).map(async (name): Promise<PartStatus | undefined> => {
      const part = state[name];
      if (!part) return undefined;
      const running = part.startedByFerry ? ownedRuns(home, name, part) : true;
      const problem = running ? await partProblem(name, part, STATUS_PROBE_MS) : "not running";
      return {
        name,
        url: part.url,
        startedByFerry: part.startedByFerry,
        pid: part.pid,
        running,
        answering: problem === undefined,
        problem,
      };
    }),
  );
  return parts.filter((part): part is PartStatus => part !== undefined);
}

export function stackIsEmpty(home = ferryHome()): boolean {
  return !existsSync(join(home, "stack.json"));
}

/** The URL to show a person (passwords hidden). */
export function displayUrl(url: string): string {
  return url.startsWith("http") ? url : redactMysqlUrl(url);
}

/**
 * How long a running server may take to answer before `status` calls it not answering, and before `up` calls it
 * hung and starts another in its place (losing an in-memory DynamoDB Local's tables), or refuses a server given by
 * MYSQL_URL or DYNAMODB_ENDPOINT. A server that is down is told at once (its port refuses); these only bound one
 * that is up and slow, as on a loaded machine, where 2 s was too short.
 */
const STATUS_PROBE_MS = 10_000;
const REUSE_PROBE_MS = 30_000;

async function partProblem(name: PartName, part: StackPart, timeoutMs: number): Promise<string | undefined> {
  if (!part.url) return "half-started";
  if (name === "mysql") return mysqlProblem(part.url, timeoutMs);
  return (await dynamoDbAnswers(part.url, timeoutMs)) ? undefined : "does not answer ListTables";
}

/** Keeps a part this stack started earlier if it still runs and answers; stops it if it only half runs. */
async function reuseOwned(
  home: string,
  state: StackState,
  name: PartName,
  progress: (line: string) => void,
): Promise<boolean> {
  const part = state[name];
  if (!ownedRuns(home, name, part)) {
    if (part?.startedByFerry) delete state[name];
    return false;
  }
  if (part.url && (await partProblem(name, part, REUSE_PROBE_MS)) === undefined) {
    progress(`${name.padEnd(9)} already running: ${displayUrl(part.url)} (pid ${part.pid})`);
    return true;
  }
  progress(`${name.padEnd(9)} pid ${part.pid} runs but does not answer: stopping it and starting again`);
  await stopOwned(home, name, part);
  delete state[name];
  return false;
}

/** An outside server replaces one ferry started: stop ours so nothing is left orphaned. */
async function retireOwned(
  home: string,
  state: StackState,
  name: PartName,
  progress: (line: string) => void,
): Promise<void> {
  const part = state[name];
  if (ownedRuns(home, name, part)) {
    progress(`${name.padEnd(9)} stopping the private server (pid ${part.pid}): an outside one is configured now`);
    await stopOwned(home, name, part);
  }
  delete state[name];
}

/** Stops a MariaDB left running on this data folder that the state file lost track of. */
async function stopStray(dataDir: string, progress: (line: string) => void): Promise<void> {
  const pid = mariaDbPidIn(dataDir);
  if (pid === undefined) return;
  progress(`mysql     stopping a MariaDB left running on this data folder (pid ${pid})`);
  await stopProcess(pid, { identity: mariaDbIdentity(dataDir) });
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
