/**
 * The codec (docs/architecture.md, "The codec"): the contract's row <-> item mapping, once. createCodec compiles
 * a contract; each entity's codec converts MySQL rows, entity values and DynamoDB items, renders keys, and
 * normalises values for comparison.
 */

export { AttributeCodec, NOT_IN_KEYS } from "./attribute.ts";
export {
  type Codec,
  createCodec,
  ENTITY_ATTRIBUTE,
  type EntityCodec,
  type EntityValue,
  type FieldDiff,
  type Item,
  type KeyAttributeNames,
  type RenderOptions,
} from "./codec.ts";
export { foldForCollation, isCaseInsensitive } from "./collation.ts";
export { CONCEALED, conceal, concealKept, HIDDEN } from "./conceal.ts";
export { type ReadEntity, withCopies } from "./copies.ts";
export { CodecError, describeValue, HIDDEN_VALUE } from "./errors.ts";
export { type JsonValue, parseJson, writeJson } from "./json.ts";
export { mysqlTypeCast, type TypeCastField } from "./mysql.ts";
export { sortableInteger } from "./numbers.ts";
