/** The DynamoDB side of the generated repositories: DynamoEntityStore (its errors are the shared ones of ../errors.ts). */

export { type EntityItems, entityItems, itemBytes, MAX_ITEM_BYTES, type MarkerItem } from "./entity-items.ts";
export { VERSION_ATTRIBUTE } from "./expression.ts";
export { withFastDataCalls } from "./fast-calls.ts";
export {
  type DynamoDeleteOptions,
  DynamoEntityStore,
  type DynamoEntityStoreOptions,
  type DynamoPage,
  type DynamoQueryInput,
  type DynamoTransactOptions,
  type DynamoTransactWrite,
  type DynamoUpdateOptions,
  type ReadOptions,
  type VersionedValue,
} from "./store.ts";
export { enforcedByKey, uniqueMarkerKey, uniqueRules } from "./unique-markers.ts";
export { MAX_TRANSACTION_ITEMS } from "./write-items.ts";
