/**
 * What generated stores call: their options, the routers built from their embedded contract, and pages of listings.
 * Generated code imports the runtime's public entry only, so the contract's type is here too.
 */

export type { Contract } from "@ferry/contract";
export type { DynamoStoreOptions, MysqlStoreOptions, StoreOptions } from "./options.ts";
export { DEFAULT_PAGE_LIMIT, type Page, type PageRequest, pageOptions } from "./pages.ts";
export { contractCodec, createDynamoRouter, createMysqlRouter, createPhaseRouter } from "./routers.ts";
