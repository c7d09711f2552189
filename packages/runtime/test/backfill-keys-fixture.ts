/** The MySQL tables of fixtures/backfill-keys.yaml (segments, backfill and validation tests load them). */
import { fileURLToPath } from "node:url";

export const BACKFILL_KEYS_DDL = fileURLToPath(new URL("./fixtures/backfill-keys.sql", import.meta.url));
