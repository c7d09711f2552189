/**
 * Live MySQL/MariaDB -> SchemaFacts: read the catalog, count the small tables exactly (and, for their foreign keys,
 * the most rows one parent has), build the facts.
 */
import { buildFacts } from "./build.ts";
import { exactRowCounts, foreignKeyFanOuts, type Queryable, readCatalog, tablesToCount } from "./catalog.ts";
import type { SchemaFacts } from "./types.ts";

/** The schema facts of `database`. Throws a StackError when the database does not exist. */
export async function introspect(connection: Queryable, database: string): Promise<SchemaFacts> {
  const catalog = await readCatalog(connection, database);
  catalog.exactRowCounts = await exactRowCounts(connection, database, tablesToCount(catalog));
  catalog.fanOuts = await foreignKeyFanOuts(connection, catalog, catalog.exactRowCounts);
  return buildFacts(catalog, database);
}
