export { StackError, describeError } from "./errors.ts";
export { ferryHome, findRepoRoot } from "./paths.ts";
export {
  connectMysql,
  formatMysqlUrl,
  mysqlProblem,
  parseMysqlUrl,
  redactMysqlUrl,
  withDatabase,
  type MysqlLocation,
} from "./mysql.ts";
export { dynamoDbAnswers, dynamoDbClient, requireJava } from "./dynamodb.ts";
export { readState, type StackPart, type StackState } from "./state.ts";
export { displayUrl, stackDown, stackStatus, stackUp, type PartStatus, type StackUpOptions } from "./stack.ts";
export { resolveConnections, type Connections } from "./connections.ts";
