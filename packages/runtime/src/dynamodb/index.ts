/** The DynamoDB side of the generated repositories: DynamoEntityStore and the errors it reports. */

export { decodeCursor, encodeCursor } from "./cursor.ts";
export {
  DynamoAlreadyExists,
  DynamoConditionFailed,
  DynamoCursorError,
  DynamoItemNotFound,
  DynamoStoreError,
  DynamoUniqueViolation,
  DynamoWriteConflict,
} from "./errors.ts";
export {
  type DynamoCondition,
  type DynamoConditionOperator,
  DynamoEntityStore,
  type DynamoEntityStoreOptions,
  type DynamoPage,
  type DynamoQueryInput,
  type DynamoUpdateOptions,
  MAX_TRANSACTION_ITEMS,
  uniqueMarkerKey,
  VERSION_ATTRIBUTE,
} from "./store.ts";
