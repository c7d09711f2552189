/**
 * The contract's transactions (`transactions.<name>`) on each store: resolved step by step by a TransactionPlan,
 * carried out as one MySQL transaction or one DynamoDB TransactWriteItems when that store is authoritative, and
 * replayed as one unit, without the conditions, on the other store. EntityRouter decides which store goes first.
 */
import type { Codec, EntityValue } from "../codec/index.ts";
import type { DynamoEntityStore, DynamoTransactWrite } from "../dynamodb/index.ts";
import { NotFound, StoreError, TransactionFailed, TransactionRefused } from "../errors.ts";
import type { IdFence } from "../ids/fence.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import type { Phase, StoreName } from "../phases.ts";
import { TransactionPlan, type TransactionResult, type TransactionWrite } from "../transactions/plan.ts";
import { withInsertDefaults, withUpdateDefaults } from "./defaults.ts";

/** What a transaction did on the authoritative store: its writes as performed (ids and defaults filled in). */
export interface PerformedTransaction {
  writes: TransactionWrite[];
  result: TransactionResult;
}

export interface ContractTransactionsOptions {
  codec: Codec;
  mysql: () => MysqlEntityStore;
  dynamodb: () => DynamoEntityStore;
  ids: IdFence;
  /** The value with its denormalised copies, read from `store`, as DynamoDB stores it. */
  withCopies: (entity: string, value: EntityValue, store: StoreName) => Promise<EntityValue>;
}

export class ContractTransactions {
  private readonly plans = new Map<string, TransactionPlan>();

  constructor(private readonly options: ContractTransactionsOptions) {}

  /** The plan of a contract transaction, compiled once; TransactionRefused when the contract has none of that name. */
  plan(name: string): TransactionPlan {
    let plan = this.plans.get(name);
    if (!plan) {
      const definition = this.options.codec.contract.transactions?.[name];
      if (!definition) throw new TransactionRefused(name, "the contract has no transaction of that name");
      plan = new TransactionPlan(this.options.codec, name, definition);
      this.plans.set(name, plan);
    }
    return plan;
  }

  /**
   * Runs the transaction on MySQL, authoritative: one MySQL transaction, its conditions checked. `before` runs last
   * inside it, with its writes (the router records their intent there, committed with them).
   */
  onMysql(
    plan: TransactionPlan,
    input: Record<string, unknown>,
    before?: (mysql: MysqlEntityStore, writes: TransactionWrite[]) => Promise<void>,
  ): Promise<PerformedTransaction> {
    const codec = this.options.codec;
    return this.options.mysql().transaction(async (mysql) => {
      const performed = await plan.resolve(input, async (write) => {
        try {
          return await performMysql(mysql, codec, write, true);
        } catch (error) {
          throw failed("mysql", plan.name, write, error);
        }
      });
      await before?.(mysql, performed.writes);
      return performed;
    });
  }

  /**
   * Runs the transaction on DynamoDB, authoritative: ids from the id counter, MySQL's column defaults applied, then
   * one TransactWriteItems with the conditions; `ahead` runs right before it, with its writes (the router records
   * their intent there).
   */
  async onDynamo(
    plan: TransactionPlan,
    input: Record<string, unknown>,
    phase: Phase,
    ahead?: (writes: TransactionWrite[]) => Promise<void>,
  ): Promise<PerformedTransaction> {
    const codec = this.options.codec;
    const ids = new Map<string, EntityValue[string][]>();
    for (const [entity, count] of plan.creates(input)) {
      if (count > 0) ids.set(entity, await this.options.ids.allocate(entity, count, phase));
    }
    const { writes, result } = await plan.resolve(input, async (write) => {
      const definition = codec.entity(write.entity).definition;
      if (write.operation === "create" && write.value) {
        const id = definition.id;
        let value = write.value;
        if (id?.strategy === "auto-increment" && (value[id.attribute] === undefined || value[id.attribute] === null)) {
          value = { ...value, [id.attribute]: ids.get(write.entity)?.shift() };
        }
        return withInsertDefaults(definition, value);
      }
      if (write.operation === "update") {
        const set = withUpdateDefaults(definition, write.set ?? {});
        if (write.set !== undefined || Object.keys(set).length > 0) write.set = set;
      }
      return undefined;
    });
    const dynamoWrites = await this.dynamoWrites(writes, "dynamodb", true);
    await ahead?.(writes);
    await this.options.dynamodb().transact(dynamoWrites, {
      onFailure: (index, error) => failed("dynamodb", plan.name, writes[index] as TransactionWrite, error),
    });
    return { writes, result };
  }

  /** Replays writes performed on `from` on the other store `to`, as one transaction there, without the conditions. */
  async replay(to: StoreName, from: StoreName, writes: readonly TransactionWrite[]): Promise<void> {
    if (to === "mysql") {
      await this.options.mysql().transaction(async (mysql) => {
        for (const write of writes) await performMysql(mysql, this.options.codec, write, false);
      });
    } else {
      await this.options.dynamodb().transact(await this.dynamoWrites(writes, from, false));
    }
  }

  /** The transaction's writes for DynamoDB; `authoritative` keeps the conditions and checks (a replay drops them). */
  private async dynamoWrites(
    writes: readonly TransactionWrite[],
    readFrom: StoreName,
    authoritative: boolean,
  ): Promise<DynamoTransactWrite[]> {
    const converted = await Promise.all(
      writes.map(async (write): Promise<DynamoTransactWrite | undefined> => {
        const condition = authoritative ? (write.condition ?? []) : [];
        switch (write.operation) {
          case "create":
            return {
              create: write.entity,
              value: await this.options.withCopies(write.entity, write.value ?? {}, readFrom),
            };
          case "update":
            return {
              update: write.entity,
              key: write.key ?? {},
              ...(write.set ? { changes: write.set } : {}),
              ...(write.add ? { add: write.add } : {}),
              condition,
            };
          case "delete":
            return {
              delete: write.entity,
              key: write.key ?? {},
              condition,
              ...(authoritative ? {} : { ifExists: true }),
            };
          case "check":
            return authoritative ? { check: write.entity, key: write.key ?? {}, condition } : undefined;
        }
      }),
    );
    return converted.filter((write): write is DynamoTransactWrite => write !== undefined);
  }
}

/** Carries out one transaction write on MySQL inside a transaction; `authoritative` keeps conditions and strictness. */
async function performMysql(
  mysql: MysqlEntityStore,
  codec: Codec,
  write: TransactionWrite,
  authoritative: boolean,
): Promise<EntityValue | undefined> {
  const condition = authoritative ? (write.condition ?? []) : [];
  const key = write.key ?? {};
  switch (write.operation) {
    case "create":
      return mysql.create(write.entity, write.value ?? {});
    case "update": {
      const changes = write.set ?? {};
      if (authoritative) {
        // ON UPDATE columns get one value, which the replay writes too.
        write.set = withUpdateDefaults(codec.entity(write.entity).definition, changes);
      }
      await mysql.update(write.entity, key, write.set ?? changes, {
        condition,
        ...(write.add ? { add: write.add } : {}),
      });
      return undefined;
    }
    case "delete": {
      const removed = await mysql.delete(write.entity, key, condition);
      if (!removed && authoritative) throw new NotFound("mysql", write.entity, key);
      return undefined;
    }
    case "check":
      if (authoritative) await mysql.check(write.entity, key, condition);
      return undefined;
  }
}

/** A store error of one write, as the failure of the transaction's step; anything else as it was. */
function failed(store: StoreName, transaction: string, write: TransactionWrite, error: unknown): Error {
  if (error instanceof StoreError && !(error instanceof TransactionFailed)) {
    return new TransactionFailed(store, transaction, write.step + 1, write.element, error);
  }
  return error instanceof Error ? error : new Error(String(error));
}
