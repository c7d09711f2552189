export { type Connections, resolveConnections } from "./connections.ts";
export {
  type DynamoDbClientSettings,
  dynamoDbAnswers,
  dynamoDbClient,
  requireJava,
  withoutCallLogging,
} from "./dynamodb.ts";
export { describeError, StackError } from "./errors.ts";
export { CLOSE_GRACE_MS, closeHttpServer } from "./http.ts";
export {
  connectMysql,
  createMysqlPool,
  formatMysqlUrl,
  type MysqlLocation,
  mysqlProblem,
  parseMysqlUrl,
  redactMysqlUrl,
  withDatabase,
} from "./mysql.ts";
export { ferryHome, findRepoRoot } from "./paths.ts";
export { displayUrl, type PartStatus, type StackUpOptions, stackDown, stackStatus, stackUp } from "./stack.ts";
export { readState, type StackPart, type StackState } from "./state.ts";
