/**
 * Routes each call to the stores the migration phase says (DESIGN.md, "The five phases"): reads go to the
 * authoritative store; writes go to the authoritative store first (its failure fails the call and the
 * other store is not touched), then to the other one, whose failure never fails the call but is handed to
 * `onSecondaryFailure` (the outbox takes it from there). The phase comes from a PhaseSource; this module
 * only needs its current value.
 */
import type { Codec, EntityValue } from "../codec/index.ts";
import type { DynamoEntityStore } from "../dynamodb/index.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { PHASES, type Phase, type Store, writeTargets } from "../phases.ts";
import { withInsertDefaults, withUpdateDefaults } from "./defaults.ts";

export interface PhaseSource {
  phase(): Phase;
}

/** A phase that never changes (tests, scripts, a fleet pinned to one phase). */
export class FixedPhase implements PhaseSource {
  constructor(private readonly value: Phase) {}
  phase(): Phase {
    return this.value;
  }
}

export interface SecondaryFailure {
  entity: string;
  operation: "create" | "update" | "delete";
  store: Store;
  /** The item's primary key values, so the write can be replayed. */
  key: EntityValue;
  /** What was written to the authoritative store (create/update), for the replay. */
  value?: EntityValue;
  error: unknown;
}

export interface ListRequest {
  /** A global secondary index the access pattern uses on DynamoDB; absent means the primary key. */
  index?: string;
  /** Equality values: the key template's placeholders, and any other attributes the pattern filters on. */
  values: object;
  order?: "asc" | "desc";
  limit: number;
  cursor?: string;
}

export interface ListPage<T = EntityValue> {
  items: T[];
  cursor?: string;
}

export interface UpdateRequest {
  condition?: Array<{ attribute: string; op: "=" | "<>" | "<" | "<=" | ">" | ">="; value: unknown }>;
  add?: Record<string, number>;
}

/** A cursor issued by one store, presented after the phase moved reads to the other. */
export class CursorStoreChanged extends Error {
  constructor(
    readonly issuedBy: string,
    readonly readingFrom: Store,
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
  mysql: MysqlEntityStore;
  dynamodb: DynamoEntityStore;
  onSecondaryFailure: (failure: SecondaryFailure) => void;
}

export class EntityRouter {
  constructor(private readonly options: RouterOptions) {}

  /** The store reads are served from in the current phase. */
  readStore(): Store {
    return PHASES[this.options.phase.phase()].authoritative;
  }

  /** Reads one item by its primary key; `T` is the entity's generated type (the codec has checked every value). */
  async get<T extends object = EntityValue>(entity: string, key: object): Promise<T | undefined> {
    const values = key as EntityValue;
    const item =
      this.readStore() === "mysql"
        ? await this.options.mysql.get(entity, values)
        : await this.options.dynamodb.get(entity, values);
    return item as T | undefined;
  }

  async list<T extends object = EntityValue>(entity: string, request: ListRequest): Promise<ListPage<T>> {
    const page = await this.listValues(entity, request);
    return page as ListPage<T>;
  }

  private async listValues(entity: string, request: ListRequest): Promise<ListPage<EntityValue>> {
    const store = this.readStore();
    if (request.cursor) {
      const issuedBy = cursorStore(request.cursor);
      if (issuedBy !== store) throw new CursorStoreChanged(issuedBy, store);
    }
    if (store === "mysql") {
      const order = this.sortAttribute(entity, request.index);
      return this.options.mysql.list(entity, {
        where: request.values as EntityValue,
        limit: request.limit,
        ...(order ? { order: { attribute: order, direction: request.order ?? "asc" } } : {}),
        ...(request.cursor ? { cursor: request.cursor } : {}),
      });
    }
    const page = await this.options.dynamodb.query(entity, {
      values: request.values as EntityValue,
      limit: request.limit,
      ...(request.index ? { index: request.index } : {}),
      ...(request.order ? { order: request.order } : {}),
      ...(request.cursor ? { cursor: request.cursor } : {}),
    });
    // Values the key templates do not use are filters here, as they are a WHERE on MySQL.
    return { ...page, items: page.items.filter((item) => matchesValues(item, request.values)) };
  }

  /** Creates on the authoritative store, then copies what it stored (with its id) to the other. */
  async create<T extends object = EntityValue>(entity: string, given: object): Promise<T> {
    const value = given as EntityValue;
    const [first, second] = this.targets();
    const stored =
      first === "mysql" ? await this.options.mysql.create(entity, value) : await this.createDynamo(entity, value);
    if (second) {
      await this.secondary(entity, "create", second, stored, stored, () =>
        second === "mysql" ? this.options.mysql.create(entity, stored) : this.options.dynamodb.create(entity, stored),
      );
    }
    return stored as T;
  }

  async update(entity: string, keyObject: object, given: object, request: UpdateRequest = {}): Promise<void> {
    const key = keyObject as EntityValue;
    const [first, second] = this.targets();
    // ON UPDATE columns get one value, written to both stores (not each server's own clock).
    const changes = withUpdateDefaults(this.options.codec.entity(entity).definition, given as EntityValue);
    const run = (store: Store) =>
      store === "mysql"
        ? this.options.mysql.update(entity, key, changes, request)
        : this.options.dynamodb.update(entity, key, changes, request).then(() => undefined);
    await run(first);
    // The condition held on the authoritative store; the copy applies the same change unconditionally.
    if (second) {
      const copy: UpdateRequest = request.add ? { add: request.add } : {};
      await this.secondary(entity, "update", second, key, { ...changes }, () =>
        second === "mysql"
          ? this.options.mysql.update(entity, key, changes, copy)
          : this.options.dynamodb.update(entity, key, changes, copy).then(() => undefined),
      );
    }
  }

  async delete(entity: string, keyObject: object): Promise<boolean> {
    const key = keyObject as EntityValue;
    const [first, second] = this.targets();
    const removed =
      first === "mysql"
        ? await this.options.mysql.delete(entity, key)
        : await this.options.dynamodb.delete(entity, key);
    if (second) {
      await this.secondary(entity, "delete", second, key, undefined, () =>
        second === "mysql" ? this.options.mysql.delete(entity, key) : this.options.dynamodb.delete(entity, key),
      );
    }
    return removed;
  }

  private targets(): [Store, Store | undefined] {
    const [first, second] = writeTargets(this.options.phase.phase());
    if (!first) throw new Error("no store takes writes in this phase");
    return [first, second];
  }

  private async createDynamo(entity: string, value: EntityValue): Promise<EntityValue> {
    const codec = this.options.codec.entity(entity);
    const id = codec.definition.id;
    if (id?.strategy === "auto-increment" && (value[id.attribute] === undefined || value[id.attribute] === null)) {
      throw new Error(
        `${entity}.${id.attribute} is an auto-increment id that MySQL assigns; with DynamoDB authoritative (phase 4-5) pass the id (id allocation for these phases is not built yet)`,
      );
    }
    const stored = withInsertDefaults(codec.definition, value);
    await this.options.dynamodb.create(entity, stored);
    return stored;
  }

  private async secondary(
    entity: string,
    operation: SecondaryFailure["operation"],
    store: Store,
    keySource: EntityValue,
    value: EntityValue | undefined,
    write: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await write();
    } catch (error) {
      const key = Object.fromEntries(
        this.options.codec
          .entity(entity)
          .definition.source.primaryKey.map((column) => this.attributeOf(entity, column))
          .map((attribute) => [attribute, keySource[attribute]]),
      );
      this.options.onSecondaryFailure({ entity, operation, store, key, ...(value ? { value } : {}), error });
    }
  }

  private attributeOf(entity: string, column: string): string {
    const attributes = this.options.codec.entity(entity).definition.attributes;
    return Object.entries(attributes).find(([, spec]) => spec.column.name === column)?.[0] ?? column;
  }

  /** The attribute a listing is ordered by on MySQL: the first placeholder of the (index's) sort template. */
  private sortAttribute(entity: string, index: string | undefined): string | undefined {
    const definition = this.options.codec.entity(entity).definition;
    const template = index ? definition.indexes?.[index]?.sort : definition.key.sort;
    const match = template ? /\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(template) : null;
    return match?.[1];
  }
}

function cursorStore(cursor: string): string {
  try {
    const body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { store?: unknown };
    return typeof body.store === "string" ? body.store : "an unknown store";
  } catch {
    return "an unreadable cursor";
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") return String(a) === String(b);
  return a === b;
}

/** True when the item holds every given value (GetItem patterns that also check non-key attributes). */
export function matchesValues(item: object | undefined, values: object): boolean {
  const stored = item as EntityValue | undefined;
  return (
    stored !== undefined && Object.entries(values).every(([attribute, value]) => sameValue(stored[attribute], value))
  );
}
