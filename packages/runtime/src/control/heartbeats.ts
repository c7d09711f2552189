/**
 * The fleet's heartbeats (docs/architecture.md, "Phases"): every process writes one control-table item saying which
 * phase version it runs; reading them tells whether a change has reached the whole fleet.
 *
 * Items: pk `INSTANCE`, sk the instance id: `instanceId`, `host`, `app`, `versionSeen` (N), `phaseSeen` (N),
 * `inFlight` (N: writes begun and not yet finished), `moveTaken` (N: the version of the announced move it has taken
 * and holds new writes for; absent when none), `startedAt` and `lastSeen` (S, ISO-8601), `writesUntil` (S, ISO-8601:
 * the end of its write lease, until which it may go on writing under `versionSeen` without being heard from again),
 * and the control table's expiry attribute (epoch seconds) for DynamoDB's TTL to remove the items of instances that
 * died without saying goodbye. One partition for the fleet: one small
 * write per instance and refresh, far below a partition's limits for fleets of hundreds. Liveness compares
 * `lastSeen`, written with the instance's clock, with the reader's clock: keep `staleAfterMs` well above the clock
 * skew.
 */
import { type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { isPhase, type Phase } from "../phases.ts";
import { CONTROL_KEY, CONTROL_TTL_ATTRIBUTE, type ControlItem, controlKey, ensureControlTable } from "./table.ts";

/** The partition of the heartbeat items (sort key: the instance id). */
export const INSTANCE_PARTITION = "INSTANCE";

/** How often a process reads the phase (and writes its heartbeat) unless told otherwise. */
export const DEFAULT_REFRESH_MS = 1000;

/** How long a heartbeat item outlives its last write (TTL), for instances that die without stopping. */
export const DEFAULT_HEARTBEAT_TTL_SECONDS = 3600;

/** An instance not heard from for longer is shown as not live, unless told otherwise: three missed heartbeats. */
export const DEFAULT_STALE_AFTER_MS = 3 * DEFAULT_REFRESH_MS;

/**
 * How long a process may go on writing under the phase it last read without reaching the control table again (its
 * write lease), unless told otherwise: an outage of DynamoDB shorter than this stops no write MySQL can take, and a
 * process that died without saying goodbye holds up a move for at most this long (plus the margin below).
 */
export const DEFAULT_WRITE_LEASE_MS = 30_000;

/**
 * A silent instance's lease is taken to run this much longer by whoever reads the fleet (default): the clocks of the
 * writer and the reader may differ, and a write begun just before the lease ran out takes a while to finish.
 */
export const DEFAULT_LEASE_MARGIN_MS = 2_000;

/** What one heartbeat says. */
export interface Heartbeat {
  instanceId: string;
  host: string;
  app: string;
  /** The phase version it runs. */
  versionSeen: number;
  phaseSeen: Phase | undefined;
  /** Writes begun (CachedPhase.beginWrite) and not yet finished. */
  inFlight: number;
  /** The version of the announced move it has taken (it holds new writes until the move is committed or cancelled). */
  moveTaken?: number;
  /** ISO-8601. */
  startedAt: string;
  /** ISO-8601, of this heartbeat. */
  lastSeen: string;
  /**
   * ISO-8601: the end of the write lease this heartbeat gave the instance (lastSeen + its lease); absent from the
   * heartbeats of versions without leases, whose writers stopped at the stale limit.
   */
  writesUntil?: string;
}

/** One live instance in the fleet view. */
export interface FleetInstance extends Heartbeat {
  /** It has seen the current version. */
  current: boolean;
}

export interface FleetView {
  /** The stored phase and version now. */
  phase: Phase;
  version: number;
  /** The live instances (last seen within staleAfterMs), by app, then host, then instance id. */
  instances: FleetInstance[];
  /** Every live instance, and every silent one, has seen the current version (true for an empty fleet). */
  allCurrent: boolean;
  /**
   * Instances not heard from within staleAfterMs whose heartbeat has not expired yet (stopped without saying goodbye,
   * hung, or cut off from the control table), newest first: shown to operators. The silent ones among them count.
   */
  stale: Heartbeat[];
  /**
   * The stale instances whose write lease (plus the margin) has not run out: each may still be writing under the
   * version it last saw, so a move waits for it to come back or for its lease to end. Newest first.
   */
  silent: SilentInstance[];
}

/** A stale instance that may still write: until `writesUntil` plus the reader's margin. */
export interface SilentInstance extends Heartbeat {
  writesUntil: string;
  /** It has seen the current version. */
  current: boolean;
}

export interface FleetOptions {
  /** An instance not heard from for longer is not live (default 3 × 1000 ms); it counts while silent (its lease). */
  staleAfterMs?: number;
  /** How much longer than its heartbeat says a silent instance's lease is taken to run (default 2 s). */
  leaseMarginMs?: number;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** The key of an instance's heartbeat item. */
export function heartbeatKey(instanceId: string): ControlItem {
  return controlKey({ pk: INSTANCE_PARTITION, sk: instanceId });
}

/** The heartbeat item, expiring `ttlSeconds` after `lastSeen`. */
export function heartbeatItem(heartbeat: Heartbeat, ttlSeconds: number): ControlItem {
  const item: ControlItem = {
    ...heartbeatKey(heartbeat.instanceId),
    instanceId: { S: heartbeat.instanceId },
    host: { S: heartbeat.host },
    app: { S: heartbeat.app },
    versionSeen: { N: String(heartbeat.versionSeen) },
    inFlight: { N: String(heartbeat.inFlight) },
    startedAt: { S: heartbeat.startedAt },
    lastSeen: { S: heartbeat.lastSeen },
    [CONTROL_TTL_ATTRIBUTE]: { N: String(Math.ceil(Date.parse(heartbeat.lastSeen) / 1000) + ttlSeconds) },
  };
  if (heartbeat.phaseSeen !== undefined) item.phaseSeen = { N: String(heartbeat.phaseSeen) };
  if (heartbeat.moveTaken !== undefined) item.moveTaken = { N: String(heartbeat.moveTaken) };
  if (heartbeat.writesUntil !== undefined) item.writesUntil = { S: heartbeat.writesUntil };
  return item;
}

/**
 * The live instances of the fleet and whether each runs `state`'s version (the phase as stored now), and the silent
 * ones that may still write.
 */
export async function readFleet(
  client: DynamoDBClient,
  tablePrefix: string,
  state: { phase: Phase; version: number },
  options: FleetOptions = {},
): Promise<FleetView> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const table = await ensureControlTable(client, tablePrefix);
  const nowMs = (options.now ?? Date.now)();
  const leaseMarginMs = options.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS;
  const cutoff = new Date(nowMs - staleAfterMs).toISOString();
  const instances: FleetInstance[] = [];
  const stale: Heartbeat[] = [];
  const silent: SilentInstance[] = [];
  let start: ControlItem | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
        ExpressionAttributeValues: { ":pk": { S: INSTANCE_PARTITION } },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      const heartbeat = heartbeatFromItem(item);
      if (heartbeat.lastSeen < cutoff) {
        // Expired (DynamoDB deletes expired items only eventually): gone, not stale.
        const expiresAt = Number(item[CONTROL_TTL_ATTRIBUTE]?.N);
        if (!(expiresAt * 1000 <= nowMs)) stale.push(heartbeat);
        const { writesUntil } = heartbeat;
        if (writesUntil !== undefined && Date.parse(writesUntil) + leaseMarginMs > nowMs) {
          silent.push({ ...heartbeat, writesUntil, current: heartbeat.versionSeen === state.version });
        }
        continue;
      }
      instances.push({ ...heartbeat, current: heartbeat.versionSeen === state.version });
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  instances.sort(
    (a, b) => a.app.localeCompare(b.app) || a.host.localeCompare(b.host) || a.instanceId.localeCompare(b.instanceId),
  );
  return {
    phase: state.phase,
    version: state.version,
    instances,
    allCurrent: instances.every((instance) => instance.current) && silent.every((instance) => instance.current),
    stale: stale.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen)),
    silent: silent.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen)),
  };
}

function heartbeatFromItem(item: ControlItem): Heartbeat {
  const phaseSeen = Number(item.phaseSeen?.N);
  const heartbeat: Heartbeat = {
    instanceId: item.instanceId?.S ?? item[CONTROL_KEY.sort]?.S ?? "",
    host: item.host?.S ?? "",
    app: item.app?.S ?? "",
    versionSeen: Number(item.versionSeen?.N ?? 0),
    phaseSeen: isPhase(phaseSeen) ? phaseSeen : undefined,
    inFlight: Number(item.inFlight?.N ?? 0),
    startedAt: item.startedAt?.S ?? "",
    lastSeen: item.lastSeen?.S ?? "",
  };
  if (item.moveTaken?.N !== undefined) heartbeat.moveTaken = Number(item.moveTaken.N);
  if (item.writesUntil?.S !== undefined) heartbeat.writesUntil = item.writesUntil.S;
  return heartbeat;
}
