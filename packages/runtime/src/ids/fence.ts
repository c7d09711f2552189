/**
 * IdFence: no id is handed out twice while authority over ids moves from MySQL's AUTO_INCREMENT to the id counter
 * (phase 4). Before the first allocation after each phase change while MySQL is still written, it raises the counter
 * past MySQL's highest id (read exactly). Every move into phase 4 changes the authoritative store, so it goes through
 * the barrier (docs/architecture.md, "Phases"): when phase 4 begins, no write under a phase in which MySQL hands out
 * ids is in flight anywhere in the fleet, and none can start (held, or refused by a process out of touch), so the raise
 * needs no wait of its own. What the barrier does not see, a row inserted into MySQL behind ferry's back, is handled
 * by the retry: an id that turns out taken raises the counter again and the write is tried once more.
 */
import type { Codec, EntityValue } from "../codec/index.ts";
import { AlreadyExists, StoreError, TransactionFailed } from "../errors.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { PHASES, type Phase } from "../phases.ts";
import { isTransient } from "../transient.ts";
import { type IdAllocator, IdCounterMissing } from "./allocator.ts";

export interface IdFenceOptions {
  codec: Codec;
  /** Hands out the ids; without it, nothing can be created with DynamoDB authoritative. */
  ids?: IdAllocator;
  /** Where MySQL's highest ids are read (phase 4). */
  mysql?: MysqlEntityStore;
  /**
   * Awaited before the counter is raised. FleetMember gives none (the barrier makes a wait redundant); a router whose
   * writes do not begin through a phase source that holds them during a move can.
   */
  idGate?: () => Promise<void>;
}

/** How long a phase-4 create with no id counter yet keeps asking a MySQL that does not answer for its highest id. */
const MYSQL_BLIP_MS = 5_000;

/**
 * MySQL's highest id of `entity`; a MySQL that is away (isTransient: a restart, a lost connection) is asked again,
 * backing off, until `withinMs` has passed. Anything else, or still no answer, is IdCounterMissing.
 */
async function highestIdWithin(mysql: MysqlEntityStore, entity: string, withinMs: number): Promise<bigint> {
  const deadline = Date.now() + withinMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await mysql.highestId(entity);
    } catch (cause) {
      const left = deadline - Date.now();
      if (!isTransient(cause) || left <= 0) throw new IdCounterMissing(entity, cause);
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    }
  }
}

export class IdFence {
  /** Entities whose id counter was raised to MySQL's highest id since the phase last changed. */
  private readonly floored = new Set<string>();
  private lastPhase: Phase | undefined;
  /** Set when MySQL did not answer for a whole MYSQL_BLIP_MS: the next creates are refused at once until it answers. */
  private mysqlAway = false;

  constructor(private readonly options: IdFenceOptions) {}

  /** Told the phase of every write: MySQL may have handed out ids while the phase was elsewhere. */
  follow(phase: Phase): void {
    if (phase !== this.lastPhase) this.floored.clear();
    this.lastPhase = phase;
  }

  /**
   * New auto-increment ids from the id counter (DynamoDB authoritative). While MySQL is still written (phase 4) the
   * counter is first raised to MySQL's highest id, once per entity and phase, so the ids continue MySQL's sequence.
   */
  async allocate(entity: string, count: number, phase: Phase): Promise<EntityValue[string][]> {
    const allocator = this.options.ids;
    const attribute = this.options.codec.entity(entity).definition.id?.attribute;
    if (!allocator || attribute === undefined) {
      throw new StoreError(
        "dynamodb",
        entity,
        "needs an id, and with DynamoDB authoritative ids come from an IdAllocator, which this router was not given",
      );
    }
    if (PHASES[phase].flags.WRITE_MYSQL && !this.floored.has(entity)) {
      await this.options.idGate?.();
      let highest: bigint | undefined;
      try {
        highest = await this.options.mysql?.highestId(entity);
      } catch {
        // MySQL (secondary here) is down: the counter, raised before, carries on; a taken id is retried.
      }
      if (highest !== undefined) {
        this.mysqlAway = false;
        await allocator.raiseTo(entity, highest);
        this.floored.add(entity);
      }
    }
    const codec = this.options.codec.entity(entity).attribute(attribute);
    let ids: bigint[];
    try {
      ids = await allocator.allocate(entity, count);
    } catch (error) {
      // No counter yet: it starts at MySQL's highest id. In phase 5 (nothing of this entity was created in phase 4)
      // that id is final: ids came from MySQL until the counter existed, and nothing writes MySQL now. In phase 4 this
      // is the first create since the move and MySQL did not answer just now: a restart takes a moment, so it is asked
      // again for a few seconds before the create is refused.
      const mysql = this.options.mysql;
      if (!(error instanceof IdCounterMissing) || mysql === undefined) throw error;
      const waitMs = PHASES[phase].flags.WRITE_MYSQL && !this.mysqlAway ? MYSQL_BLIP_MS : 0;
      let highest: bigint;
      try {
        highest = await highestIdWithin(mysql, entity, waitMs);
      } catch (refused) {
        // Waited in vain for a MySQL that is away; any other refusal says nothing about the next create's wait.
        if (waitMs > 0 && isTransient((refused as IdCounterMissing).cause)) this.mysqlAway = true;
        throw refused;
      }
      this.mysqlAway = false;
      await allocator.raiseTo(entity, highest);
      if (PHASES[phase].flags.WRITE_MYSQL) this.floored.add(entity);
      ids = await allocator.allocate(entity, count);
    }
    return ids.map((id) => codec.fromColumn(id.toString()));
  }

  /**
   * True when an allocated id turned out to be taken while MySQL is still written (a row inserted into MySQL after this
   * process last raised its counters, by something that does not go through ferry's barrier): the counters are raised
   * again on the next allocation, and the write is worth one more attempt.
   */
  retryAfterTakenId(error: unknown, allocated: boolean, phase: Phase, attempt: number): boolean {
    const reason = error instanceof TransactionFailed ? error.reason : error;
    if (!allocated || attempt > 1 || !(reason instanceof AlreadyExists) || !PHASES[phase].flags.WRITE_MYSQL) {
      return false;
    }
    this.floored.clear();
    return true;
  }
}
