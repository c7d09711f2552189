import { randomBytes } from "node:crypto";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { StackError } from "./errors.ts";
import { isRunning } from "./processes.ts";

/** One part of the stack: either started (and owned) by ferry, or an outside server ferry only uses. */
export interface StackPart {
  /** The address clients use: an http endpoint or a mysql:// URL (the private server's has no password). */
  url: string;
  /** True when `ferry stack up` started this process, so `down` may stop it. */
  startedByFerry: boolean;
  pid?: number;
  port?: number;
  dataDir?: string;
  logFile?: string;
  /** DynamoDB Local only: tables kept in memory (lost on down) rather than on disk. */
  inMemory?: boolean;
}

export interface StackState {
  version: 1;
  mysql?: StackPart;
  dynamodb?: StackPart;
}

export function stateFile(home: string): string {
  return join(home, "stack.json");
}

export function readState(home: string): StackState {
  const file = stateFile(home);
  if (!existsSync(file)) return { version: 1 };
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as StackState;
    return parsed.version === 1 ? parsed : { version: 1 };
  } catch {
    return { version: 1 };
  }
}

/** Writes stack.json (atomically) and stack.env, a file a shell can `source`. */
export function writeState(home: string, state: StackState): void {
  mkdirSync(home, { recursive: true });
  const file = stateFile(home);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  const env = [
    "# written by `ferry stack up`; source it to point other tools at the local stack",
    state.mysql ? `export MYSQL_URL='${state.mysql.url}'` : "",
    state.dynamodb ? `export DYNAMODB_ENDPOINT='${state.dynamodb.url}'` : "",
  ].filter(Boolean);
  writeFileSync(join(home, "stack.env"), `${env.join("\n")}\n`);
}

export function removeState(home: string): void {
  rmSync(stateFile(home), { force: true });
  rmSync(join(home, "stack.env"), { force: true });
}

/** Who holds a lock file: its pid and the unique token it wrote, or undefined if it cannot be read (yet). */
interface LockHolder {
  pid: number;
  token: string;
  /** Age of the lock file, for telling a lock written by an older ferry (pid only, or empty) from a fresh one. */
  ageMs: number;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const text = readFileSync(file, "utf8").trim();
    const ageMs = Date.now() - statSync(file).mtimeMs;
    const pid = Number(text.split(/\s+/)[0]);
    return { pid: Number.isSafeInteger(pid) && pid > 0 ? pid : 0, token: text, ageMs };
  } catch {
    // Gone (released meanwhile): try again.
    return undefined;
  }
}

/** A lock no one holds any more: its process is gone (or it is old and says no pid at all). */
function isStale(holder: LockHolder): boolean {
  return holder.pid > 0 ? !isRunning(holder.pid) : holder.ageMs > 10_000;
}

/** Creates `target` holding what `source` holds, atomically; false when `target` exists already. */
function tryLink(source: string, target: string): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Removes `file` if it still holds `token` (so a lock is only ever removed by, or for, its holder). */
function removeIfHeld(file: string, token: string): void {
  if (readHolder(file)?.token === token) rmSync(file, { force: true });
}

/**
 * Holds `<home>/stack.lock` while `fn` runs so two `ferry stack up|down` calls never race on one
 * stack. The lock is made whole at once (a file holding our pid, hard-linked to the lock's name, which
 * fails if it exists), so no one ever sees it empty. A lock whose holder died is taken over; only one
 * waiter at a time may do that (it holds `stack.lock.takeover` meanwhile), and only while the lock
 * still names the dead holder, so a lock just taken by a live process is never removed.
 * With `createHome: false`, a home that is missing, or removed by the holder while waiting, fails with ENOENT.
 */
export async function withStackLock<T>(
  home: string,
  fn: () => Promise<T>,
  options: { timeoutMs?: number; createHome?: boolean } = {},
): Promise<T> {
  if (options.createHome ?? true) mkdirSync(home, { recursive: true });
  const lock = join(home, "stack.lock");
  const takeover = `${lock}.takeover`;
  const token = `${process.pid} ${randomBytes(8).toString("hex")}`;
  const mine = `${lock}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(mine, `${token}\n`);
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  try {
    for (;;) {
      if (tryLink(mine, lock)) break;
      const holder = readHolder(lock);
      if (holder !== undefined && isStale(holder)) {
        if (tryLink(mine, takeover)) {
          try {
            removeIfHeld(lock, holder.token);
          } finally {
            rmSync(takeover, { force: true });
          }
          continue;
        }
        // Someone else is taking over; its own takeover file is stale only if it died doing so.
        const other = readHolder(takeover);
        if (other !== undefined && isStale(other)) removeIfHeld(takeover, other.token);
      }
      if (Date.now() > deadline) {
        throw new StackError(
          `another ferry process${holder?.pid ? ` (pid ${holder.pid})` : ""} is changing the stack in ${home}`,
          { hint: "wait for it to finish, or stop it" },
        );
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  } finally {
    rmSync(mine, { force: true });
  }
  // Files like `mine` that a process killed while waiting left behind.
  for (const entry of readdirSync(home)) {
    const pid = /^stack\.lock\.(\d+)\.[0-9a-f]+$/.exec(entry)?.[1];
    if (pid !== undefined && !isRunning(Number(pid))) rmSync(join(home, entry), { force: true });
  }
  try {
    return await fn();
  } finally {
    removeIfHeld(lock, token);
  }
}
