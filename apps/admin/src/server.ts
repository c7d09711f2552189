/**
 * Runs the console on a port, over the control table of a DynamoDB (and the app's MySQL, for the outbox count of a
 * move 3 <-> 4). `close()` stops it.
 */
import type { AddressInfo } from "node:net";
import type { Contract } from "@ferry/runtime";
import {
  AuditTrail,
  BackfillLedger,
  type MysqlExecutor,
  OperatorStore,
  outboxPendingWrites,
  PhaseStore,
  sharedSecret,
} from "@ferry/runtime";
import { closeHttpServer, createMysqlPool, dynamoDbClient } from "@ferry/stack";
import { serve } from "@hono/node-server";
import { type AdminAppOptions, createAdminApp } from "./app.tsx";
import { consoleStores } from "./stores.ts";

export interface AdminServerOptions {
  dynamodbEndpoint: string;
  /** The app's MySQL database (its outbox of writes for DynamoDB is a precondition of 3 <-> 4). */
  mysqlUrl?: string;
  /**
   * The app's contract: with it (and mysqlUrl) the console backfills, validates, repairs, drains the outbox and
   * inspects records; without it, it watches and moves the phase only.
   */
  contract?: Contract;
  tablePrefix?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default ADMIN_SESSION_SECRET, else a random one kept in the control table (shared by every admin process). */
  sessionSecret?: string;
  /** Secure cookies, behind HTTPS (default: ADMIN_SECURE_COOKIES=1). */
  secureCookies?: boolean;
  loginLimits?: AdminAppOptions["loginLimits"];
  log?: (message: string, error?: unknown) => void;
}

export interface RunningAdmin {
  url: string;
  close(): Promise<void>;
}

/** The fewest characters a session secret given by hand may have. */
const MIN_SECRET_LENGTH = 32;

async function sessionSecret(given: string | undefined, kept: () => Promise<string>): Promise<string> {
  if (given === undefined) return kept();
  if (given.length < MIN_SECRET_LENGTH) {
    throw new Error(`ADMIN_SESSION_SECRET (or sessionSecret) needs at least ${MIN_SECRET_LENGTH} characters`);
  }
  return given;
}

export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdmin> {
  const tablePrefix = options.tablePrefix ?? "";
  const client = dynamoDbClient(options.dynamodbEndpoint);
  // A backfill worker, a validation (4 scan segments) and the pages share it.
  const mysql = options.mysqlUrl === undefined ? undefined : createMysqlPool(options.mysqlUrl, { connectionLimit: 12 });
  if (options.contract !== undefined && mysql === undefined) {
    throw new Error("the console needs the app's MySQL (mysqlUrl) to work on the stores of its contract");
  }
  const phases = new PhaseStore(client, {
    tablePrefix,
    pendingWrites: outboxPendingWrites({
      client,
      tablePrefix,
      mysql: async (): Promise<MysqlExecutor> => {
        if (mysql === undefined) throw new Error("the console was started without the app's MySQL (mysqlUrl)");
        return mysql;
      },
    }),
  });
  const { app, close } = createAdminApp({
    phases,
    operators: new OperatorStore(client, { tablePrefix }),
    trail: new AuditTrail(client, { tablePrefix }),
    backfill: new BackfillLedger(client, { tablePrefix }),
    ...(options.contract === undefined || mysql === undefined
      ? {}
      : { stores: consoleStores({ contract: options.contract, mysql, client, tablePrefix }) }),
    sessionSecret: await sessionSecret(options.sessionSecret || process.env.ADMIN_SESSION_SECRET || undefined, () =>
      sharedSecret(client, tablePrefix, "admin-session"),
    ),
    secureCookies: options.secureCookies ?? process.env.ADMIN_SECURE_COOKIES === "1",
    ...(options.loginLimits === undefined ? {} : { loginLimits: options.loginLimits }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(started));
    started.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    async close() {
      await close();
      // Busy connections too (an open page's server-sent events never go idle), after 2 s for what is in flight.
      await closeHttpServer(server);
      await mysql?.end();
      client.destroy();
    },
  };
}
