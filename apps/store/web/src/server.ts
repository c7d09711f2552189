/**
 * Runs the store: a fleet member (the phase from the control table, refreshed; the outbox; shadow reads; metrics),
 * the generated repositories over it, and the web app on a port. `close()` stops all of it.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { DEFAULT_BACKGROUND_COPIES, FleetMember, withFastDataCalls } from "@ferry/runtime";
import { closeHttpServer, createMysqlPool, dynamoDbClient } from "@ferry/stack";
import { contract, createStore } from "@ferry/store-data";
import { serve } from "@hono/node-server";
import { createStoreApp, type StoreAppOptions } from "./app.tsx";

export interface StoreServerOptions {
  mysqlUrl: string;
  dynamodbEndpoint: string;
  tablePrefix?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default STORE_SESSION_SECRET, or a random one (sessions then end when the process does). */
  sessionSecret?: string;
  /** Secure cookies, for a store behind HTTPS (default: STORE_SECURE_COOKIES=1). */
  secureCookies?: boolean;
  /** How often the phase is read again (default 1000 ms). */
  refreshMs?: number;
  /** The time budget of a shadow read in phase 3 (default 100 ms; its recheck gets ten times as long, at least 1 s). */
  shadowBudgetMs?: number;
  /**
   * How many dual writes may answer before their copy to the other store has landed (default
   * DEFAULT_BACKGROUND_COPIES, 64; 0: every write waits for its copy). Each is covered by its intent; see FleetMember.
   */
  backgroundCopies?: number;
  loginLimits?: StoreAppOptions["loginLimits"];
  log?: (message: string, error?: unknown) => void;
}

export interface RunningStore {
  url: string;
  fleet: FleetMember;
  close(): Promise<void>;
}

export async function startStoreServer(options: StoreServerOptions): Promise<RunningStore> {
  const mysql = createMysqlPool(options.mysqlUrl, { connectionLimit: 10 });
  // The item calls (get, put, query, transactions) go by the runtime's leaner path, a fraction of the SDK's CPU per
  // call; the rest (tables) by the SDK, its middleware resolved once per command class (docs/store.md).
  const dynamodb = withFastDataCalls(dynamoDbClient(options.dynamodbEndpoint, undefined, { cacheMiddleware: true }));
  const fleet = new FleetMember({
    contract,
    mysql,
    dynamodb,
    app: "store",
    backgroundCopies: options.backgroundCopies ?? DEFAULT_BACKGROUND_COPIES,
    ...(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }),
    ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    ...(options.shadowBudgetMs === undefined ? {} : { shadowBudgetMs: options.shadowBudgetMs }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  try {
    await fleet.start();
  } catch (error) {
    await mysql.end().catch(() => undefined);
    dynamodb.destroy();
    throw error;
  }
  const app = createStoreApp({
    store: createStore(fleet.storeOptions),
    sessionSecret: options.sessionSecret ?? process.env.STORE_SESSION_SECRET ?? randomBytes(32).toString("base64url"),
    secureCookies: options.secureCookies ?? process.env.STORE_SECURE_COOKIES === "1",
    health: () => fleet.health(),
    metrics: () => fleet.metrics.scrape(),
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
    fleet,
    async close() {
      // No new connections; idle keep-alive ones closed now, and busy ones (a client sending request after request
      // on one connection never lets it go idle) closed once their requests have had 2 s to finish.
      await closeHttpServer(server);
      await fleet.stop();
      await mysql.end();
      dynamodb.destroy();
    },
  };
}
