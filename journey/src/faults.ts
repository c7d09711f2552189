/**
 * The journey's faults on its private stack's servers: DynamoDB Local killed (SIGKILL) and started again on the same
 * port and data folder after an outage; MariaDB stopped and started again. The servers it starts again are its own
 * to stop (`stop()`): the stack's state still names the first processes.
 */
import type { StackState } from "@ferry/stack";
import { startDynamoDb, startMariaDb, stopProcess } from "@ferry/stack/testing";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a fault did: when, and what it cost (filled in by the journey). */
export interface FaultRecord {
  name: string;
  /** The phase it happened in, as the timeline names it. */
  phase: string;
  /** ms since the epoch: from the fault to the server answering again (or the process restarted). */
  from: number;
  to: number;
  note: string;
  /**
   * The failures it may cost: answers with these statuses ("error": a connection refused or reset, "cut": a request
   * whose connection the server closed before answering), on this store's URL when given. Anything else failing in
   * its window is a problem, as outside it.
   */
  allows: { statuses: string[]; url?: string };
  /** How long after `to` its window stays open (default the journey's FAULT_GRACE_MS; 0 when `to` includes it). */
  graceMs?: number;
}

export class ServerFaults {
  private dynamodbPid: number | undefined;
  private mysqlPid: number | undefined;
  private readonly started: number[] = [];
  /** Set by stop(): no server is started again after it (the journey is tearing its stack down). */
  private stopped = false;

  constructor(private readonly state: StackState) {
    this.dynamodbPid = state.dynamodb?.pid;
    this.mysqlPid = state.mysql?.pid;
  }

  /** DynamoDB Local killed outright, down for `outageMs`, then started again on its port and data folder. */
  async dynamoDbOutage(outageMs: number): Promise<{ downAt: number; upAt: number }> {
    const part = this.state.dynamodb;
    if (!part?.port || !part.dataDir || !part.logFile || this.dynamodbPid === undefined) {
      throw new Error("the journey's DynamoDB Local keeps no data folder: it cannot be killed and started again");
    }
    const downAt = Date.now();
    process.kill(this.dynamodbPid, "SIGKILL");
    await sleep(outageMs);
    this.refuseWhenStopped("DynamoDB Local");
    const running = await startDynamoDb({
      port: part.port,
      dataDir: part.dataDir,
      logFile: part.logFile,
    });
    await this.keep(running.pid, "DynamoDB Local");
    this.dynamodbPid = running.pid;
    return { downAt, upAt: Date.now() };
  }

  /** MariaDB stopped (as a service manager stops it: SIGTERM, then its shutdown) and started again. */
  async mysqlRestart(): Promise<{ downAt: number; upAt: number }> {
    const part = this.state.mysql;
    if (!part?.port || !part.dataDir || !part.logFile || this.mysqlPid === undefined) {
      throw new Error("the journey's MariaDB is not its own: it cannot be restarted");
    }
    const downAt = Date.now();
    await stopProcess(this.mysqlPid, { graceMs: 60_000 });
    this.refuseWhenStopped("MariaDB");
    const running = await startMariaDb({
      port: part.port,
      dataDir: part.dataDir,
      logFile: part.logFile,
    });
    await this.keep(running.pid, "MariaDB");
    this.mysqlPid = running.pid;
    return { downAt, upAt: Date.now() };
  }

  /** Stops the servers this started (the stack's own `stackDown` stops the first ones), and starts none after. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const pid of this.started) await stopProcess(pid).catch(() => undefined);
  }

  private refuseWhenStopped(server: string): void {
    if (this.stopped) throw new Error(`the journey is stopping: ${server} is not started again`);
  }

  /** Records a server started again; one that came up after stop() had run is stopped at once. */
  private async keep(pid: number, server: string): Promise<void> {
    this.started.push(pid);
    if (!this.stopped) return;
    await stopProcess(pid).catch(() => undefined);
    throw new Error(`the journey is stopping: ${server}, started again meanwhile, is stopped`);
  }
}
