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

export class IdFence {
  /** Entities whose id counter was raised to MySQL's highest id since the phase last changed. */
  private readonly floored = new Set<string>();
  private lastPhase: Phase | undefined;

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
        await allocator.raiseTo(entity, highest);
        this.floored.add(entity);
      }
    }
    const codec = this.options.codec.entity(entity).attribute(attribute);
    let ids: bigint[];
    try {
      ids = await allocator.allocate(entity, count);
    } catch (error) {
      // Phase 5 with no counter yet (nothing of this entity was created in phase 4): MySQL's highest id is final
      // (ids came from MySQL until the counter existed, and nothing writes MySQL now), so the counter starts there.
      const mysql = this.options.mysql;
      if (!(error instanceof IdCounterMissing) || PHASES[phase].flags.WRITE_MYSQL || mysql === undefined) throw error;
      let highest: bigint;
      try {
        highest = await mysql.highestId(entity);
      } catch (cause) {
        throw new IdCounterMissing(entity, cause);
      }
      await allocator.raiseTo(entity, highest);
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
