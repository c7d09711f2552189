/**
 * @ferry/store: the shopping store. This entry point exports its legacy MySQL side: the schema
 * migrations and the seeding of the demo and synthetic data sets.
 */

export type { BulkMethod } from "./legacy/bulk-insert.ts";
export { CATEGORIES, DEMO_SHOPPER } from "./legacy/catalog.ts";
export { type StoreChecksum, storeChecksum } from "./legacy/checksum.ts";
export { DEMO_PASSWORD } from "./legacy/demo.ts";
export {
  loadMigrations,
  MIGRATIONS_DIR,
  MIGRATIONS_TABLE,
  type MigrateResult,
  type Migration,
  migrateStore,
  splitStatements,
} from "./legacy/migrate.ts";
export { DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost, verifyPassword } from "./legacy/password.ts";
export {
  DEFAULT_STORE_DATABASE,
  isStoreSeeded,
  type SeedOptions,
  type SeedPlan,
  type SeedProgress,
  type SeedResult,
  seedStore,
  storeRowCounts,
} from "./legacy/seed.ts";
export { SELLER_EVERY, type SyntheticSize, validateSynthetic } from "./legacy/synthetic.ts";
export { STORE_TABLES, type StoreTable } from "./legacy/tables.ts";
export {
  type LegacyWorkloadData,
  type LegacyWorkloadOptions,
  legacyWorkloadData,
  runLegacyWorkload,
  type StoreAccount,
} from "./legacy/workload.ts";
