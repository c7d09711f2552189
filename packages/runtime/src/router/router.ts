/**
 * Routes each call to the stores the migration phase says (docs/architecture.md, "Phases"): reads go to the
 * authoritative store; writes go to the authoritative store first (its failure fails the call and the
 * other store is not touched), then to the other one, whose failure never fails the call but is handed to
 * `onSecondaryFailure` (the outbox takes it from there). The phase comes from a PhaseSource; this module
 * only needs its current value.
 */
import { keyTemplatePlaceholders } from "@ferry/contract";
import { type Codec, type EntityValue, withCopies } from "../codec/index.ts";
import type { Condition } from "../condition.ts";
import { cursorIssuer } from "../cursor.ts";
import type { DynamoEntityStore } from "../dynamodb/index.ts";
import { StoreError, WriteConflict } from "../errors.ts";
import type { IdAllocator } from "../ids/allocator.ts";
import { IdFence } from "../ids/fence.ts";
import type { Metrics, StoreOperation } from "../metrics/index.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { identityOf } from "../outbox/entry.ts";
import type { Intent, WriteIntents } from "../outbox/intents.ts";
import { otherStore, PHASES, type Phase, type PhaseSource, type StoreName, writeTargets } from "../phases.ts";
import type { SecondaryFailure } from "../secondary-failure.ts";
import type { ShadowReader } from "../shadow/index.ts";
import type { TransactionResult, TransactionWrite } from "../transactions/plan.ts";
import type { BackgroundCopies } from "./background.ts";
import { Convergence, type SecondaryWrite } from "./converge.ts";
import { withInsertDefaults, withUpdateDefaults } from "./defaults.ts";
import { ContractTransactions } from "./transactions.ts";

/** MySQL errnos after which a transaction that wrote nothing is simply run again. */
const ER_LOCK_DEADLOCK = 1213;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const TRANSACTION_ATTEMPTS = 3;

export interface ListRequest {
  /** A global secondary index the access pattern uses on DynamoDB; absent means the primary key. */
  index?: string;
  /** Equality values: the key template's placeholders, and any other attributes the pattern filters on. */
  values: object;
  order?: "asc" | "desc";
  limit: number;
  cursor?: string;
  /** Conditions every item listed meets (a listing's filters): MySQL's WHERE, DynamoDB's key condition and filter. */
  filter?: Condition[];
}

/** A search by words (EntityRouter.search). */
export interface SearchRequest {
  /** The entity's word index (the contract's wordIndexes). */
  index: string;
  /** What was typed: the items with every one of its words are found. */
  text: string;
  limit: number;
  cursor?: string;
}

export interface ListPage<T = EntityValue> {
  items: T[];
  cursor?: string;
}

export interface UpdateRequest {
  condition?: Condition[];
  add?: Record<string, number>;
}

/** A cursor issued by one store, presented after the phase moved reads to the other. */
export class CursorStoreChanged extends Error {
  constructor(
    readonly issuedBy: string,
    readonly readingFrom: StoreName,
  ) {
    super(
      `this listing's cursor comes from ${issuedBy}, and reads now come from ${readingFrom} (the migration phase changed): restart the listing`,
    );
    this.name = "CursorStoreChanged";
  }
}

export interface RouterOptions {
  phase: PhaseSource;
  codec: Codec;
  /** The MySQL side; a router without it serves only phase 5 (a DynamoDB-only repository). */
  mysql?: MysqlEntityStore;
  /** The DynamoDB side; a router without it serves only phase 1 (a MySQL-only repository). */
  dynamodb?: DynamoEntityStore;
  /** Hands out auto-increment ids while DynamoDB is authoritative (phases 4-5). */
  ids?: IdAllocator;
  /**
   * Resolves once no process of the fleet routes by a phase in which MySQL hands out ids (1-3), so that the id
   * counter, raised to MySQL's highest id right after, cannot hand out an id a lagging process also gets from MySQL.
   * Awaited before the first id allocation after each phase change while MySQL is still written (phase 4).
   * FleetMember gives one that waits for the fleet's heartbeats; without one, the fleet is assumed to move at once.
   */
  idGate?: () => Promise<void>;
  /**
   * Records each write's outbox entry with its authoritative write (the Outbox's `intents`), so that a process killed
   * between the two writes leaves a trace any process replays; without them, only failed copies are recorded.
   */
  intents?: WriteIntents;
  /** Times every store call (ferry_store_request_seconds). */
  metrics?: Metrics;
  /** Phase 3's shadow reads: without one, phase 3 reads like phase 2. */
  shadow?: ShadowReader;
  /**
   * Receives the writes the secondary store refused (the outbox); required when both stores are given. The call
   * waits for a returned promise (the outbox storing the entry) before it answers, so an answered request's failed
   * secondary write is on record even if the process dies right after.
   */
  onSecondaryFailure?: (failure: SecondaryFailure) => unknown;
  /**
   * Lets a write answer once its authoritative write and its intent are committed, its copy (and the check after it)
   * running on in the background, up to the copies' limit (./background.ts); needs `intents`. Without it, or for a
   * write with no intent recorded, the write answers after its copy.
   */
  background?: BackgroundCopies;
}

/** Hands a write's copy to the background, where it may run after its write has answered. */
interface Defer {
  /** Whether the write's copy may run in the background at all: its intent on record, and a ticket to hold. */
  allowed(intent: Intent | undefined): boolean;
  /** Starts `copy` in the background; false when the limit is reached (the write then copies before it answers). */
  start(copy: () => Promise<void>): boolean;
}

/** The copy's own copy of the values it reads (the caller may change its own once answered), or undefined. */
function detached<V>(values: V): V | undefined {
  try {
    return structuredClone(values);
  } catch {
    // Something the structured clone cannot copy: the write copies before it answers, on the values themselves.
    return undefined;
  }
}

export class EntityRouter {
  private readonly ids: IdFence;
  private readonly transactions: ContractTransactions;
  private readonly convergence: Convergence | undefined;

  constructor(private readonly options: RouterOptions) {
    if (!options.mysql && !options.dynamodb) throw new Error("a router needs a MySQL store, a DynamoDB store, or both");
    if (options.mysql && options.dynamodb && !options.onSecondaryFailure) {
      throw new Error(
        "a router over both stores needs onSecondaryFailure (the outbox), or failed secondary writes are lost",
      );
    }
    this.ids = new IdFence({
      codec: options.codec,
      ...(options.ids ? { ids: options.ids } : {}),
      ...(options.mysql ? { mysql: options.mysql } : {}),
      ...(options.idGate ? { idGate: options.idGate } : {}),
    });
    if (options.mysql && options.dynamodb) {
      this.convergence = new Convergence(options.codec, options.mysql, options.dynamodb);
    }
    this.transactions = new ContractTransactions({
      codec: options.codec,
      mysql: () => this.mysql,
      dynamodb: () => this.dynamodb,
      ids: this.ids,
      withCopies: (entity, value, store) => this.withCopies(entity, value, store),
    });
  }

  private get mysql(): MysqlEntityStore {
    if (!this.options.mysql) {
      throw new Error(`phase ${this.options.phase.phase()} uses MySQL, and this repository has only DynamoDB`);
    }
    return this.options.mysql;
  }

  private get dynamodb(): DynamoEntityStore {
    if (!this.options.dynamodb) {
      throw new Error(`phase ${this.options.phase.phase()} uses DynamoDB, and this repository has only MySQL`);
    }
    return this.options.dynamodb;
  }

  /** Reads one item by its primary key; `T` is the entity's generated type (the codec has checked every value). */
  async get<T extends object = EntityValue>(entity: string, key: object): Promise<T | undefined> {
    const values = key as EntityValue;
    const phase = PHASES[this.options.phase.phase()];
    const read = (store: StoreName, signal?: AbortSignal) =>
      this.timed(store, "get", () =>
        store === "mysql"
          ? this.mysql.get(entity, values)
          : this.dynamodb.get(entity, values, signal === undefined ? {} : { signal }),
      );
    const served = read(phase.authoritative);
    const shadow = this.options.shadow;
    // Phase 3: the other store is read too, alongside the request, and compared; never served, never waited for.
    if (phase.shadowRead && shadow) {
      const item = await shadow.read({
        entity,
        key: values,
        served,
        shadow: (signal) => read(otherStore(phase.authoritative), signal),
        startAfter: afterServed(served),
        servedBy: phase.authoritative,
        recheck: (signal) => Promise.all([read(phase.authoritative), read(otherStore(phase.authoritative), signal)]),
        stillShadowing: this.stillIn(phase.phase),
      });
      return item as T | undefined;
    }
    return (await served) as T | undefined;
  }

  async list<T extends object = EntityValue>(entity: string, request: ListRequest): Promise<ListPage<T>> {
    const phase = PHASES[this.options.phase.phase()];
    const store = phase.authoritative;
    if (request.cursor) {
      // A cursor that is not ferry's is refused by the store it is handed to (CursorError).
      const issuedBy = cursorIssuer(request.cursor);
      if (issuedBy !== undefined && issuedBy !== store) throw new CursorStoreChanged(issuedBy, store);
    }
    const served = this.listOn(store, entity, request);
    const shadow = this.options.shadow;
    // A page after the first has a cursor only its own store can continue: only first pages are compared.
    if (phase.shadowRead && shadow && !request.cursor) {
      const page = await shadow.readPage({
        entity,
        key: request.values,
        served,
        shadow: (signal) => this.listOn(otherStore(store), entity, request, signal),
        startAfter: afterServed(served),
        servedBy: store,
        recheck: (signal) =>
          Promise.all([this.listOn(store, entity, request), this.listOn(otherStore(store), entity, request, signal)]),
        stillShadowing: this.stillIn(phase.phase),
      });
      return page as ListPage<T>;
    }
    return (await served) as ListPage<T>;
  }

  /**
   * A page of a search by words (a word index of the entity): from the authoritative store, compared with the other in
   * phase 3 (first pages), as list() is. Both stores find the same items in the same order (primary key, highest
   * first); a cursor continues on the store that issued it only.
   */
  async search<T extends object = EntityValue>(entity: string, request: SearchRequest): Promise<ListPage<T>> {
    const phase = PHASES[this.options.phase.phase()];
    const store = phase.authoritative;
    if (request.cursor) {
      const issuedBy = cursorIssuer(request.cursor);
      if (issuedBy !== undefined && issuedBy !== store) throw new CursorStoreChanged(issuedBy, store);
    }
    const on = (which: StoreName, signal?: AbortSignal) =>
      this.timed(which, "list", () =>
        which === "mysql"
          ? this.mysql.search(entity, request)
          : this.dynamodb.search(entity, request, signal === undefined ? {} : { signal }),
      );
    const served = on(store);
    const shadow = this.options.shadow;
    if (phase.shadowRead && shadow && !request.cursor) {
      const page = await shadow.readPage({
        entity,
        key: { [`words:${request.index}`]: request.text },
        served,
        shadow: (signal) => on(otherStore(store), signal),
        startAfter: afterServed(served),
        servedBy: store,
        recheck: (signal) => Promise.all([on(store), on(otherStore(store), signal)]),
        stillShadowing: this.stillIn(phase.phase),
      });
      return page as ListPage<T>;
    }
    return (await served) as ListPage<T>;
  }

  /** Whether this process still routes by `phase` (a shadow comparison across a phase move is dropped). */
  private stillIn(phase: Phase): () => boolean {
    return () => this.options.phase.phase() === phase;
  }

  private listOn(
    store: StoreName,
    entity: string,
    request: ListRequest,
    signal?: AbortSignal,
  ): Promise<ListPage<EntityValue>> {
    return this.timed(store, "list", async () => {
      if (store === "mysql") {
        const order = this.sortAttribute(entity, request.index);
        return this.mysql.list(entity, {
          where: request.values as EntityValue,
          limit: request.limit,
          ...(request.filter?.length ? { filter: request.filter } : {}),
          ...(order ? { order: { attribute: order, direction: request.order ?? "asc" } } : {}),
          ...(request.cursor ? { cursor: request.cursor } : {}),
        });
      }
      const page = await this.dynamodb.query(
        entity,
        {
          values: request.values as EntityValue,
          limit: request.limit,
          ...(request.index ? { index: request.index } : {}),
          ...(request.order ? { order: request.order } : {}),
          ...(request.cursor ? { cursor: request.cursor } : {}),
          ...(request.filter?.length ? { filter: request.filter } : {}),
        },
        signal === undefined ? {} : { signal },
      );
      // Every value is a filter here too, as in MySQL's WHERE, and compared as MySQL compares (its collation).
      const codec = this.options.codec.entity(entity);
      const wanted = Object.entries(request.values as EntityValue);
      const items = page.items.filter((item) =>
        wanted.every(([attribute, value]) => codec.attribute(attribute).same(item[attribute], value)),
      );
      return { ...page, items };
    });
  }

  /** Times a store call when the router has metrics. */
  private timed<R>(store: StoreName, operation: StoreOperation, call: () => Promise<R>): Promise<R> {
    return this.options.metrics ? this.options.metrics.time(store, operation, call) : call();
  }

  /** Creates on the authoritative store, then copies what it stored (with its id) to the other. */
  async create<T extends object = EntityValue>(entity: string, given: object): Promise<T> {
    const value = given as EntityValue;
    return this.writing(async (phase, defer) => {
      const [first, second] = this.targets(phase);
      let intent: Intent | undefined;
      const stored = await this.timed(first, "create", () => {
        if (first === "dynamodb") {
          return this.createDynamo(entity, value, phase, second, (recorded) => {
            intent = recorded;
          });
        }
        const intents = this.records(second);
        if (!intents) return retriedOnDeadlock(() => this.mysql.create(entity, value));
        return intents.ready().then(() =>
          retriedOnDeadlock(() =>
            this.mysql.transaction(async (mysql) => {
              const created = await mysql.create(entity, value);
              const key = this.identity(entity, created);
              intent = await intents.within(mysql.executor, {
                entity,
                operation: "create",
                store: "dynamodb",
                key,
                value: created,
              });
              return created;
            }),
          ),
        );
      });
      if (second) {
        const key = this.identity(entity, stored);
        const write: SecondaryWrite = { entity, operation: "create", store: second, key, value: stored };
        await this.copy(defer, intent, { write, stored }, async ({ stored }) => {
          if (second === "mysql") {
            await this.mysql.create(entity, stored);
            return undefined;
          }
          const copied = await this.withCopies(entity, stored, first);
          await this.dynamodb.create(entity, copied);
          return { value: copied };
        });
      }
      return stored as T;
    });
  }

  /**
   * Runs a contract transaction (transactions.<name>): all of its writes or none, as one MySQL transaction or one
   * DynamoDB TransactWriteItems on the authoritative store, then replayed on the other as one unit. Refused before
   * anything is written when the input is malformed or DynamoDB could not take it in one transaction (in every
   * phase, so that behaviour does not change with the phase). TransactionFailed names the step that failed.
   */
  async transact<R extends object = TransactionResult>(name: string, input: object): Promise<R> {
    const plan = this.transactions.plan(name);
    const values = input as Record<string, unknown>;
    plan.checkInput(values);
    plan.checkSize(values);
    return this.writing(async (phase, defer) => {
      const [first, second] = this.targets(phase);
      const intents = this.records(second);
      const described = (writes: TransactionWrite[]): SecondaryWrite => ({
        entity: name,
        operation: "transaction",
        store: second ?? first,
        key: {},
        writes,
      });
      for (let attempt = 1; ; attempt++) {
        let intent: Intent | undefined;
        try {
          if (first === "mysql") await intents?.ready();
          const { writes, result } = await this.timed(first, "transaction", () =>
            first === "mysql"
              ? this.transactions.onMysql(plan, values, async (mysql, writes) => {
                  intent = await intents?.within(mysql.executor, described(writes));
                })
              : this.transactions.onDynamo(plan, values, phase, async (writes) => {
                  intent = await intents?.ahead(described(writes));
                }),
          );
          if (second) {
            await this.copy(defer, intent, { write: described(writes), writes }, async ({ writes }) => {
              await this.transactions.replay(second, first, writes);
              return undefined;
            });
          }
          return result as R;
        } catch (error) {
          if (intent && first === "dynamodb") await this.authoritativeFailed(intent, error);
          const errno = (error as { errno?: unknown } | null)?.errno;
          // Nothing was written by an attempt that failed like these: run it again.
          const deadlock = errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT;
          const conflict = first === "dynamodb" && error instanceof WriteConflict;
          const allocated = [...plan.creates(values).values()].some((count) => count > 0);
          const behind = first === "dynamodb" && this.ids.retryAfterTakenId(error, allocated, phase, attempt);
          if (!(deadlock || conflict || behind) || attempt >= TRANSACTION_ATTEMPTS) throw error;
        }
      }
    });
  }

  /** The value with its denormalised copies filled in from the items they copy (read from `store`), for DynamoDB. */
  private withCopies(entity: string, value: EntityValue, store: StoreName): Promise<EntityValue> {
    return withCopies(this.options.codec, entity, value, (source, key) =>
      store === "mysql" ? this.mysql.get(source, key) : this.dynamodb.get(source, key),
    );
  }

  async update(entity: string, keyObject: object, given: object, request: UpdateRequest = {}): Promise<void> {
    const key = keyObject as EntityValue;
    // ON UPDATE columns get one value, written to both stores (not each server's own clock).
    const changes = withUpdateDefaults(this.options.codec.entity(entity).definition, given as EntityValue);
    await this.writing(async (phase, defer) => {
      const [first, second] = this.targets(phase);
      const write = second
        ? {
            entity,
            operation: "update" as const,
            store: second,
            key: this.identity(entity, key),
            value: { ...changes },
          }
        : undefined;
      const intent = await this.authoritative(first, write, "update", (mysql) =>
        first === "mysql"
          ? (mysql ?? this.mysql).update(entity, key, changes, request)
          : this.dynamodb.update(entity, key, changes, request).then(() => undefined),
      );
      // The condition held on the authoritative store; the copy applies the same change unconditionally.
      if (second && write) {
        const copy: UpdateRequest = request.add ? { add: request.add } : {};
        await this.copy(defer, intent.recorded, { write, key, changes, copy }, async ({ key, changes, copy }) => {
          if (second === "mysql") {
            await this.mysql.update(entity, key, changes, copy);
            return undefined;
          }
          // Unknown when an increment's read-back failed: the check then reads the item itself.
          const value = await this.dynamodb.update(entity, key, changes, copy);
          return value === undefined ? undefined : { value };
        });
      }
    });
  }

  async delete(entity: string, keyObject: object): Promise<boolean> {
    const key = keyObject as EntityValue;
    return this.writing(async (phase, defer) => {
      const [first, second] = this.targets(phase);
      const write = second
        ? { entity, operation: "delete" as const, store: second, key: this.identity(entity, key) }
        : undefined;
      const { result: removed, recorded } = await this.authoritative(first, write, "delete", (mysql) =>
        first === "mysql" ? (mysql ?? this.mysql).delete(entity, key) : this.dynamodb.delete(entity, key),
      );
      if (second && write) {
        await this.copy(defer, recorded, { write, key }, async ({ key }) => {
          if (second === "mysql") {
            await this.mysql.delete(entity, key);
            return undefined;
          }
          await this.dynamodb.delete(entity, key);
          return { value: undefined };
        });
      }
      return removed;
    });
  }

  /**
   * Runs a write on the authoritative store with the intent of its copy recorded: in the same MySQL transaction (`run`
   * then gets the transaction's store to write with), or ahead of the DynamoDB write.
   */
  private async authoritative<R>(
    first: StoreName,
    write: SecondaryWrite | undefined,
    operation: StoreOperation,
    run: (mysql?: MysqlEntityStore) => Promise<R>,
  ): Promise<{ result: R; recorded: Intent | undefined }> {
    const intents = this.records(write?.store);
    return this.timed(first, operation, async () => {
      if (!intents || !write) {
        // One autocommit statement can lose a deadlock too (two inserts of one unique value): rolled back, so run again.
        const result = first === "mysql" ? await retriedOnDeadlock(() => run()) : await run();
        return { result, recorded: undefined };
      }
      if (first === "mysql") {
        let recorded: Intent | undefined;
        await intents.ready();
        const result = await retriedOnDeadlock(() =>
          this.mysql.transaction(async (mysql) => {
            const result = await run(mysql);
            recorded = await intents.within(mysql.executor, write);
            return result;
          }),
        );
        return { result, recorded };
      }
      const recorded = await intents.ahead(write);
      try {
        return { result: await run(), recorded };
      } catch (error) {
        await this.authoritativeFailed(recorded, error);
        throw error;
      }
    });
  }

  /**
   * A DynamoDB write whose intent was recorded ahead failed: a store error says nothing was written (the intent goes);
   * after anything else (a timeout) it may have been, so the intent is due at once and a replay makes sure.
   */
  private async authoritativeFailed(intent: Intent, error: unknown): Promise<void> {
    const intents = this.options.intents;
    if (!intents) return;
    if (error instanceof StoreError) {
      intents.settled(intent);
      return;
    }
    await intents.failed(intent, error).catch((failure: unknown) => {
      console.error("ferry: a write intent could not be made due after its DynamoDB write failed", failure);
    });
  }

  /** The write intents to record for a write copied to `second`, when the router has them. */
  private records(second: StoreName | undefined): WriteIntents | undefined {
    return second === undefined ? undefined : this.options.intents;
  }

  /**
   * Runs a write under the phase its source lets it start in, and tells the source when it has finished: its copy
   * included, when that runs on in the background after the write has answered (`defer`).
   */
  private async writing<R>(run: (phase: Phase, defer: Defer) => Promise<R>): Promise<R> {
    const source = this.options.phase;
    const later: Promise<void>[] = [];
    const background = this.options.background;
    const defer: Defer = {
      // Only a copy whose intent is on record may outlive the answer (a process that dies first leaves it replayed),
      // and only under a ticket, which the move barrier and a stopping process wait for.
      allowed: (intent) =>
        background !== undefined && background.limit > 0 && intent !== undefined && source.beginWrite !== undefined,
      start: (copy) => {
        const running = background?.start(copy);
        if (running === undefined) return false;
        later.push(running);
        return true;
      },
    };
    if (!source.beginWrite) return run(source.phase(), defer);
    const ticket = await source.beginWrite();
    try {
      return await run(ticket.phase, defer);
    } finally {
      if (later.length === 0) ticket.done();
      else void Promise.all(later).then(() => ticket.done());
    }
  }

  /**
   * Copies a write to the secondary store (`secondary`): in the background when `defer` lets it, on a structured clone
   * of `values` (what the copy reads: the caller may reuse its key or value objects once answered), resolving at once;
   * else on `values` themselves, resolving when the copy is done or on record.
   */
  private async copy<V extends { write: SecondaryWrite }>(
    defer: Defer,
    intent: Intent | undefined,
    values: V,
    copy: (values: V) => Promise<{ value: EntityValue | undefined } | undefined>,
  ): Promise<void> {
    const own = defer.allowed(intent) ? detached(values) : undefined;
    if (own !== undefined && defer.start(() => this.secondary(own.write, intent, () => copy(own)))) return;
    await this.secondary(values.write, intent, () => copy(values));
  }

  private targets(phase: Phase): [StoreName, StoreName | undefined] {
    // MySQL may have handed out ids while the phase was elsewhere: raise the counters again on the next allocation.
    this.ids.follow(phase);
    const [first, second] = writeTargets(phase);
    if (!first) throw new Error("no store takes writes in this phase");
    return [first, second];
  }

  private async createDynamo(
    entity: string,
    given: EntityValue,
    phase: Phase,
    second: StoreName | undefined,
    recorded: (intent: Intent) => void,
  ): Promise<EntityValue> {
    const codec = this.options.codec.entity(entity);
    const id = codec.definition.id;
    const allocate =
      id?.strategy === "auto-increment" && (given[id.attribute] === undefined || given[id.attribute] === null);
    const intents = this.records(second);
    for (let attempt = 1; ; attempt++) {
      const value =
        allocate && id ? { ...given, [id.attribute]: (await this.ids.allocate(entity, 1, phase))[0] } : given;
      // As stored and read back on DynamoDB: with the denormalised copies.
      const stored = await this.withCopies(entity, withInsertDefaults(codec.definition, value), "dynamodb");
      const intent =
        intents && second
          ? await intents.ahead({
              entity,
              operation: "create",
              store: second,
              key: this.identity(entity, stored),
              value: stored,
            })
          : undefined;
      try {
        await this.dynamodb.create(entity, stored);
        if (intent) recorded(intent);
        return stored;
      } catch (error) {
        if (intent) await this.authoritativeFailed(intent, error);
        if (!this.ids.retryAfterTakenId(error, allocate, phase, attempt)) throw error;
      }
    }
  }

  /**
   * Copies a write to the secondary store (`copy` says what the secondary item held right after, when it knows), then
   * checks each item it touched against the authoritative store and
   * re-syncs the ones that differ (./converge.ts): a copy that landed late or out of order, an increment applied twice,
   * an item deleted meanwhile, a row the secondary store did not hold yet. A copy the store refused for what it holds
   * (a StoreError: the item is missing, taken, changed) goes to that check too. What cannot be copied or checked now
   * (the store is unreachable, the sync keeps failing) is handed to the outbox; the request has succeeded either way.
   */
  private async secondary(
    write: SecondaryWrite,
    intent: Intent | undefined,
    copy: () => Promise<{ value: EntityValue | undefined } | undefined>,
  ): Promise<void> {
    let failure: unknown;
    let written: { value: EntityValue | undefined } | undefined;
    try {
      written = await this.timed(write.store, write.operation, copy);
    } catch (error) {
      failure = error;
    }
    if (failure === undefined || failure instanceof StoreError) {
      try {
        await this.convergence?.settle(write, written);
        if (intent) this.options.intents?.settled(intent);
        return;
      } catch (error) {
        failure ??= error;
      }
    }
    // The intent recorded with the authoritative write becomes the outbox entry, due at once.
    if (intent && this.options.intents) {
      try {
        await this.options.intents.failed(intent, failure);
        return;
      } catch (error) {
        console.error(`ferry: a write intent for ${write.store} could not be made due; handing the write over`, error);
      }
    }
    const handler = this.options.onSecondaryFailure;
    if (!handler) throw failure;
    await this.handOver(handler, { ...write, error: failure });
  }

  /** The entity's identity attributes of a value (what the outbox and the check address an item by). */
  private identity(entity: string, value: EntityValue): EntityValue {
    return identityOf(this.options.codec, entity, value);
  }

  /** Hands a failed secondary write to the outbox; the authoritative write stands whatever happens here. */
  private async handOver(handler: (failure: SecondaryFailure) => unknown, failure: SecondaryFailure): Promise<void> {
    try {
      await handler(failure);
    } catch (error) {
      console.error(`ferry: the outbox could not take a failed ${failure.store} write of ${failure.entity}`, error);
    }
  }

  /** The attribute a listing is ordered by on MySQL: the first placeholder of the (index's) sort template. */
  private sortAttribute(entity: string, index: string | undefined): string | undefined {
    const definition = this.options.codec.entity(entity).definition;
    const template = index ? definition.indexes?.[index]?.sort : definition.key.sort;
    return template === undefined ? undefined : keyTemplatePlaceholders(template)[0];
  }
}

/**
 * Runs a MySQL write again when it lost a deadlock or a lock wait (all of it was rolled back): a write that was one
 * autocommit statement is now a transaction with its intent, and must not fail more often for that; and a lone
 * statement that lost one (two inserts of one unique value) then fails as MySQL decides the second time (a
 * UniqueViolation), not with the deadlock.
 */
async function retriedOnDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const errno = (error as { errno?: unknown } | null)?.errno;
      const lost = errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT;
      if (!lost || attempt >= TRANSACTION_ATTEMPTS) throw error;
    }
  }
}

/**
 * Settles once the served read has and the caller has had its turn (setImmediate): the shadow read's CPU work (signing,
 * parsing, comparing) then never sits between the served result and the request that waits for it.
 */
function afterServed(served: Promise<unknown>): Promise<void> {
  return served.then(
    () => new Promise<void>((resolve) => setImmediate(resolve)),
    () => new Promise<void>((resolve) => setImmediate(resolve)),
  );
}

function sameEntityValue(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") return String(a) === String(b);
  return a === b;
}

/** True when the item holds every given value (GetItem patterns that also check non-key attributes). */
export function matchesValues(item: object | undefined, values: object): boolean {
  const stored = item as EntityValue | undefined;
  return (
    stored !== undefined &&
    Object.entries(values).every(([attribute, value]) => sameEntityValue(stored[attribute], value))
  );
}
