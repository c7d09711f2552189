/**
 * The routers under a generated store, built from its embedded contract: over both stores and routed by the
 * migration phase (createStore), or over one store only (createMysqlStore, createDynamoStore).
 */
import type { Contract } from "@ferry/contract";
import { type Codec, createCodec } from "../codec/index.ts";
import { DynamoEntityStore } from "../dynamodb/index.ts";
import { IdAllocator } from "../ids/index.ts";
import { MysqlEntityStore } from "../mysql/index.ts";
import { FixedPhase } from "../phases.ts";
import { EntityRouter } from "../router/index.ts";
import type { DynamoStoreOptions, MysqlStoreOptions, StoreOptions } from "./options.ts";

const codecs = new WeakMap<Contract, Codec>();

/** The codec of a contract, compiled once per contract object (every store of a generated package shares it). */
export function contractCodec(contract: Contract): Codec {
  let codec = codecs.get(contract);
  if (!codec) {
    codec = createCodec(contract);
    codecs.set(contract, codec);
  }
  return codec;
}

/** Both stores, routed by the phase: reads from the authoritative store, writes to it first, then to the other. */
export function createPhaseRouter(contract: Contract, options: StoreOptions): EntityRouter {
  const codec = contractCodec(contract);
  const tablePrefix = options.tablePrefix ?? "";
  return new EntityRouter({
    phase: options.phase,
    codec,
    mysql: new MysqlEntityStore(options.mysql, codec),
    dynamodb: new DynamoEntityStore(options.dynamodb, codec, { tablePrefix }),
    ids: new IdAllocator(options.dynamodb, { tablePrefix }),
    onSecondaryFailure: options.onSecondaryFailure,
    intents: options.intents,
    metrics: options.metrics,
    shadow: options.shadow,
    background: options.background,
  });
}

/** MySQL alone, as in phase 1: parameterised SQL from the contract, keyset pagination, nothing on DynamoDB. */
export function createMysqlRouter(contract: Contract, options: MysqlStoreOptions): EntityRouter {
  const codec = contractCodec(contract);
  return new EntityRouter({ phase: new FixedPhase(1), codec, mysql: new MysqlEntityStore(options.mysql, codec) });
}

/** DynamoDB alone, as in phase 5: ids from the id counter, unique markers, nothing on MySQL. */
export function createDynamoRouter(contract: Contract, options: DynamoStoreOptions): EntityRouter {
  const codec = contractCodec(contract);
  const tablePrefix = options.tablePrefix ?? "";
  return new EntityRouter({
    phase: new FixedPhase(5),
    codec,
    dynamodb: new DynamoEntityStore(options.dynamodb, codec, { tablePrefix }),
    ids: new IdAllocator(options.dynamodb, { tablePrefix }),
  });
}
