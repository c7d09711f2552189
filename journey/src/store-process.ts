/**
 * One store process of the journey's fleet: `startStoreServer` on MYSQL_URL / DYNAMODB_ENDPOINT (FERRY_TABLE_PREFIX,
 * STORE_SESSION_SECRET shared by the fleet, so that any process reads any session). Prints `{"url": ...}` once it
 * serves; SIGTERM closes it (requests in flight are answered first).
 */
import { describeError } from "@ferry/stack";
import { startStoreServer } from "@ferry/store-web";
import { STORE_REFRESH_MS } from "./types.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const mysqlUrl = process.env.MYSQL_URL;
const endpoint = process.env.DYNAMODB_ENDPOINT;
if (!mysqlUrl || !endpoint) {
  console.error("store-process: MYSQL_URL and DYNAMODB_ENDPOINT must be set");
  process.exit(2);
}
const store = await startStoreServer({
  mysqlUrl,
  dynamodbEndpoint: endpoint,
  tablePrefix: process.env.FERRY_TABLE_PREFIX ?? "",
  port: Number(process.env.PORT ?? 0),
  refreshMs: STORE_REFRESH_MS,
  // A loaded CI machine (the whole suite on 2 cores) makes a recheck miss the default 1-s budget, and a recheck that
  // misses it keeps a crossing write's difference as a mismatch: 500 ms a shadow read, 5 s each of its rechecks.
  shadowBudgetMs: 500,
  // The load logs in thousands of shoppers from one address.
  loginLimits: { perAccount: 1_000, perAddress: 1_000_000, windowMs: 60_000 },
  log: (message, error) =>
    console.error(`store ${process.pid}: ${message} ${error === undefined ? "" : describeError(error)}`),
});
console.log(JSON.stringify({ url: store.url, pid: process.pid }));
let closing = false;
process.on("SIGTERM", () => {
  if (closing) return;
  closing = true;
  store.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`store ${process.pid}: close: ${describeError(error)}`);
      process.exit(1);
    },
  );
});
