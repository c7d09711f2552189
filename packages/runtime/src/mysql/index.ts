/** The MySQL side of the entity stores: statements built once from the contract, and the store that runs them. */

export {
  escapeId,
  type ListStatements,
  type MysqlStatements,
  mysqlStatements,
  type UpdateShape,
} from "./sql.ts";
export {
  isPool,
  MysqlEntityStore,
  type MysqlExecutor,
  type MysqlListOptions,
  type MysqlListPage,
  type MysqlPoolExecutor,
  type MysqlUpdateOptions,
  nextAutoIncrementOf,
} from "./store.ts";
