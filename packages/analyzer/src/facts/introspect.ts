/**
 * Live MySQL/MariaDB -> SchemaFacts: read the catalog, count the small tables exactly, build the facts.
 */
import { buildFacts } from "./build.ts";
import { exactRowCounts, type Queryable, readCatalog, tablesToCount } from "./catalog.ts";
import type { SchemaFacts } from "./types.ts";

/** The schema facts of `database`. Throws a StackError when the database does not exist. */
export async function introspect(connection: Queryable, database: string): Promise<SchemaFacts> {
  const catalog = await readCatalog(connection, database);
  catalog.exactRowCounts = await exactRowCounts(connection, database, tablesToCount(catalog));
  return buildFacts(catalog, database);
}
