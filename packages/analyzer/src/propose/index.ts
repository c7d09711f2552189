export {
  type ContractComment,
  ITEM_WARNING_BYTES,
  type Proposal,
  type ProposeOptions,
  proposeContract,
} from "./design.ts";
export { attributeFor, BOOKKEEPING_TABLES, columnFacts } from "./entities.ts";
export { attributeName, entityName, keyPrefix } from "./naming.ts";
