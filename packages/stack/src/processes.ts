import { spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StackError } from "./errors.ts";

/**
 * A process's command line, for telling ferry's servers from others: the arguments joined by `sep`,
 * with `sep` before the first and after the last. From `/proc/<pid>/cmdline` (sep NUL, exact) or,
 * without /proc (macOS), from `ps` (sep space, so an argument holding a space cannot be told apart).
 */
export interface CommandLine {
  text: string;
  sep: string;
}

/** Says whether a command line is one particular server of ours (e.g. a MariaDB on our data folder). */
export type ProcessIdentity = (line: CommandLine) => boolean;

/**
 * True when these arguments appear in the command line, one after another, each whole. From `ps`
 * (arguments joined by spaces) they must also be followed by an option or the end, so that
 * `--datadir=/a` is not found in `--datadir=/a b/mysql`.
 */
export function hasArgs(line: CommandLine, ...args: string[]): boolean {
  const needle = `${line.sep}${args.join(line.sep)}${line.sep}`;
  for (let at = line.text.indexOf(needle); at >= 0; at = line.text.indexOf(needle, at + 1)) {
    const next = line.text.slice(at + needle.length);
    if (line.sep === "\0" || next === "" || next.startsWith("-")) return true;
  }
  return false;
}

/** True when some argument ends with `suffix` (e.g. a jar's file name at the end of its path). */
export function hasArgEndingWith(line: CommandLine, suffix: string): boolean {
  return line.text.includes(`${suffix}${line.sep}`);
}

let procChecked: boolean | undefined;
function hasProc(): boolean {
  procChecked ??= existsSync("/proc/self/stat");
  return procChecked;
}

/** The command line of a process, or undefined when it is gone (or cannot be read). */
export function commandLine(pid: number): CommandLine | undefined {
  if (!hasProc()) return commandLineFromPs(pid);
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!raw) return undefined;
    return { text: `\0${raw.endsWith("\0") ? raw : `${raw}\0`}`, sep: "\0" };
  } catch {
    return undefined;
  }
}

/** The command line as `ps` shows it (for systems without /proc). */
export function commandLineFromPs(pid: number): CommandLine | undefined {
  const ps = spawnSync("ps", ["-ww", "-o", "command=", "-p", String(pid)], { encoding: "utf8" });
  const line = ps.status === 0 ? ps.stdout.trim() : "";
  return line ? { text: ` ${line} `, sep: " " } : undefined;
}

/**
 * The fields of /proc/<pid>/stat from the third (the state) on, or undefined when the process is gone.
 * The line reads "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses, so it is split after the last ")".
 */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat
      .slice(stat.lastIndexOf(")") + 1)
      .trim()
      .split(/\s+/);
  } catch {
    return undefined;
  }
}

/** True when the process has exited but its parent has not reaped it yet (a zombie), or is gone. */
function hasExited(pid: number): boolean {
  if (hasProc()) {
    const state = procStat(pid)?.[0];
    return state === undefined || state === "Z" || state === "X";
  }
  const ps = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" });
  return ps.status === 0 && ps.stdout.trim().startsWith("Z");
}

/**
 * True while a process with this pid exists and has not exited (a zombie counts as exited), and, when
 * `identity` is given, its command line says it is that very server. Without the identity any process
 * with the pid counts, so pass one whenever the pid comes from a file that may be stale.
 */
export function isRunning(pid: number, identity?: ProcessIdentity): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (hasExited(pid)) return false;
  if (identity === undefined) return true;
  const line = commandLine(pid);
  return line !== undefined && identity(line);
}

/**
 * When a process started, or undefined when it is gone: clock ticks since boot (/proc/<pid>/stat, field 22) or,
 * without /proc, the start time `ps` shows. A pid and its start time name one process: a later process that is
 * given the same pid started later.
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (hasProc()) return procStat(pid)?.[19];
  const ps = spawnSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8" });
  const started = ps.status === 0 ? ps.stdout.trim() : "";
  return started || undefined;
}

/**
 * Whether `pid` holds the socket listening on TCP `port` (Linux: from /proc), or undefined when
 * that cannot be told (no /proc, or the process's file descriptors are not readable).
 */
export function listensOn(pid: number, port: number): boolean | undefined {
  if (!hasProc()) return undefined;
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = row.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (fields[3] !== "0A" || !local || !inode) continue; // 0A: LISTEN
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] && inodes.has(match[1])) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

export interface StopOptions {
  /**
   * What the process must be (see `isRunning`): checked before the first signal; from then on the process is
   * followed by its pid and start time, so that once it has exited, a process that gets its pid is never signalled. Leave it out only for a child this process
   * has just started and not yet seen exit.
   */
  identity?: ProcessIdentity | undefined;
  graceMs?: number;
  killWaitMs?: number;
}

/**
 * Stops a process: SIGTERM, then SIGKILL if it is still there after `graceMs`. A process that outlives
 * SIGKILL by `killWaitMs` (stuck in the kernel) is reported rather than waited on forever. Returns
 * whether there was such a process to stop.
 */
export async function stopProcess(pid: number, options: StopOptions = {}): Promise<boolean> {
  // A process in uninterruptible sleep (an fsync on a loaded disk: MariaDB stopping while CI's tests start at once)
  // takes SIGKILL only when its I/O returns, which can take tens of seconds; a truly stuck one is reported after a minute.
  const { identity, graceMs = 10_000, killWaitMs = 60_000 } = options;
  if (!isRunning(pid, identity)) return false;
  // From here on it is this process, named by its pid and start time: its command line is emptied while it exits,
  // and a later process given the same pid started later.
  const startedAt = processStartTime(pid);
  const alive = () => isRunning(pid) && processStartTime(pid) === startedAt;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive()) return true;
    await sleep(50);
  }
  if (!alive()) return true;
  signal(pid, "SIGKILL");
  const killDeadline = Date.now() + killWaitMs;
  while (alive()) {
    if (Date.now() > killDeadline) {
      throw new StackError(`process ${pid} is still there ${killWaitMs / 1000}s after SIGKILL`, {
        hint: `it is probably stuck in the kernel (a hung disk or mount); look at it with \`ps -o pid,stat,command -p ${pid}\``,
      });
    }
    await sleep(20);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not read the port the OS gave"));
      });
    });
  });
}

/** True when something already listens on 127.0.0.1:port. */
export async function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolveInUse) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolveInUse(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveInUse(false)));
  });
}

/** The path of an executable on PATH (or in the usual sbin folders, which are often off a user's PATH), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The last lines of a log file, for error messages. */
export function tail(path: string, lines = 12): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export interface DetachedServer {
  /** What to call it in messages, e.g. "DynamoDB Local". */
  what: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here; its tail is shown when starting fails. */
  logFile: string;
  port: number;
  /** What the started process is (e.g. a MariaDB on our data folder), so that stopping it never signals another. */
  identity: ProcessIdentity;
  /** Resolves true once the server answers a real request. */
  answers: () => Promise<boolean>;
  /**
   * Once something answered: undefined when it is this very process, else what shows that another
   * server answers on the port (it was taken between choosing the port and starting).
   */
  notOurs?: (pid: number) => Promise<string | undefined>;
  /** Added to the hint when the server exits while starting. */
  exitHint?: string;
  readyTimeoutMs?: number | undefined;
}

/**
 * How long a server that neither exits nor answers is waited for before it is called stuck (an exit is seen at once).
 * Long, because a loaded machine is slow, not stuck: in CI every package's type-check and test run start at once on
 * two cores with a cold disk, and DynamoDB Local there took 93 s to answer.
 */
export const READY_TIMEOUT_MS = 300_000;

/**
 * Starts a server detached from this process (so it outlives the CLI), tells `onSpawn` its pid at once
 * (so a crash of ours cannot orphan it unrecorded), and waits until it answers, and makes sure the
 * answer came from it. If it exits, does not answer in time or another server answers, it is stopped
 * and the error shows the tail of its log.
 */
export async function startDetached(server: DetachedServer, onSpawn?: (pid: number) => void): Promise<number> {
  mkdirSync(dirname(server.logFile), { recursive: true });
  const log = openSync(server.logFile, "a");
  const child = spawn(server.command, server.args, {
    cwd: server.cwd,
    env: server.env ?? process.env,
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new StackError(`could not start ${server.what} (${server.command} did not spawn)`);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  child.unref();
  onSpawn?.(pid);

  const logHint = () => `its log (${server.logFile}) ends with:\n${tail(server.logFile)}`;
  const exitedError = () =>
    new StackError(`${server.what} exited while starting on port ${server.port}`, {
      hint: server.exitHint ? `${logHint()}\n${server.exitHint}` : logHint(),
    });
  const takenError = (other: string) =>
    new StackError(`another server answers on port ${server.port}, not the ${server.what} ferry started`, {
      hint: `${other}; the port was taken while ${server.what} started: run the command again to pick a free port`,
    });
  /** Our process is gone: if something else answers on the port, that is why (it took the port). */
  const goneError = async () => {
    if (!(await server.answers().catch(() => false))) return exitedError();
    const other = await server.notOurs?.(pid);
    return other === undefined ? exitedError() : takenError(other);
  };
  const timeoutMs = server.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited || !isRunning(pid)) throw await goneError();
    if (await server.answers()) {
      // Whatever answered, it was not this process if this process is gone.
      if (exited || !isRunning(pid)) throw await goneError();
      const other = await server.notOurs?.(pid);
      if (other === undefined) return pid;
      await stopProcess(pid, { identity: server.identity });
      throw takenError(other);
    }
    await sleep(100);
  }
  await stopProcess(pid, { identity: server.identity });
  throw new StackError(`${server.what} did not answer on port ${server.port} within ${timeoutMs / 1000}s`, {
    hint: logHint(),
  });
}
