/** The DynamoDB side of the generated repositories: DynamoEntityStore (its errors are the shared ones of ../errors.ts). */

export { decodeCursor, encodeCursor } from "./cursor.ts";
export {
  type DynamoCondition,
  type DynamoConditionOperator,
  DynamoEntityStore,
  type DynamoEntityStoreOptions,
  type DynamoPage,
  type DynamoQueryInput,
  type DynamoTransactOptions,
  type DynamoTransactWrite,
  type DynamoUpdateOptions,
  MAX_TRANSACTION_ITEMS,
  type ReadOptions,
  uniqueMarkerKey,
  VERSION_ATTRIBUTE,
} from "./store.ts";
