/** Schema facts: what information_schema says about one database, the same for MariaDB and MySQL 8. */
export { buildFacts, serverDialect } from "./build.ts";
export {
  type Catalog,
  type CatalogRow,
  type CatalogValue,
  EXACT_COUNT_BELOW,
  exactRowCounts,
  type Queryable,
  readCatalog,
  tablesToCount,
} from "./catalog.ts";
export { introspect } from "./introspect.ts";
export type * from "./types.ts";
