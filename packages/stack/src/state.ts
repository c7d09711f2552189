import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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

/**
 * Holds `<home>/stack.lock` while `fn` runs so two `ferry stack up|down` calls never race on one
 * stack. A lock left by a process that died is taken over.
 */
export async function withStackLock<T>(home: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(home, { recursive: true });
  const lock = join(home, "stack.lock");
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const fd = openSync(lock, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lock, "utf8").trim());
      if (!Number.isInteger(holder) || holder <= 0 || !isRunning(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StackError(`another ferry process (pid ${holder}) is changing the stack in ${home}`, {
          hint: "wait for it to finish, or stop it",
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
