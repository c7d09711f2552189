/**
 * `pnpm start`: the local stack up (DynamoDB Local + a private MariaDB, or MYSQL_URL / DYNAMODB_ENDPOINT), the
 * store's demo data loaded when its database is empty, the contract's DynamoDB tables applied, and the store served
 * in whatever phase the control table holds (phase 1 on a new stack: the migration is the operator's to drive), with the
 * operators' console (@ferry/admin) beside it. Ctrl-C stops both, and the stack too when this run started it.
 */
import { parseArgs } from "node:util";
import { startAdminServer } from "@ferry/admin";
import { applyTables, OperatorStore } from "@ferry/runtime";
import {
  describeError,
  displayUrl,
  dynamoDbClient,
  parseMysqlUrl,
  stackDown,
  stackStatus,
  stackUp,
  withDatabase,
} from "@ferry/stack";
import { DEFAULT_STORE_DATABASE, isStoreSeeded, seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { startStoreServer } from "./server.ts";

// The AWS SDK warns that its 2027 releases need Node 22 (before its first client is made); ferry supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const HELP = `pnpm start [--port N] [--admin-port N] [--host H] [--admin-host H]

Brings the local stack up, loads the store's demo data when its database is empty, applies the contract's
DynamoDB tables, serves the store in the phase the control table holds, and the operators' console beside it.
Ctrl-C stops both (and the stack, when this run started it).

  --port N         the store's port (default 3000; 0 picks a free one)
  --admin-port N   the console's port (default 3001; 0 picks a free one)
  --host H         the address the store listens on (default 127.0.0.1)
  --admin-host H   the address the console listens on (default 127.0.0.1, whatever --host says)
  --help           this text

The console has no default account: make the first operator with
  pnpm ferry admin create-operator <name>

Environment: MYSQL_URL, DYNAMODB_ENDPOINT, FERRY_TABLE_PREFIX, STORE_SESSION_SECRET (sign sessions with the
same secret in every store process; a random one otherwise), ADMIN_SESSION_SECRET (the console's; default one
kept in the control table).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "3000" },
      "admin-port": { type: "string", default: "3001" },
      "admin-host": { type: "string", default: "127.0.0.1" },
      host: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = Number(values.port);
  const adminPort = Number(values["admin-port"]);
  for (const [flag, value, given] of [
    ["--port", port, values.port],
    ["--admin-port", adminPort, values["admin-port"]],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 65_535) {
      console.error(`store: ${flag} must be a whole number from 0 to 65535; got ${given}`);
      process.exitCode = 2;
      return;
    }
  }
  // What ran before is told by its pid: `up` keeps a server that answers slowly, which Ctrl-C must leave running.
  const before = await stackStatus();
  const pidBefore = new Map(before.filter((part) => part.running).map((part) => [part.name, part.pid]));
  const state = await stackUp({ onProgress: (line) => console.log(line) });
  const startedNow = (["mysql", "dynamodb"] as const).filter(
    (name) =>
      state[name]?.startedByFerry && (state[name]?.pid === undefined || pidBefore.get(name) !== state[name]?.pid),
  );
  // A server that ran before and runs on (an outside one too): the stack was up, and stays up after Ctrl-C.
  const keptFromBefore = [...pidBefore].some(([name, pid]) => state[name] !== undefined && state[name]?.pid === pid);
  const serverUrl = state.mysql?.url;
  const endpoint = state.dynamodb?.url;
  if (!serverUrl || !endpoint) throw new Error("the stack came up without MySQL or DynamoDB");
  // The store's own database on the stack's server (the seed's default), not the server alone.
  const mysqlUrl = withDatabase(serverUrl, parseMysqlUrl(serverUrl).database ?? DEFAULT_STORE_DATABASE);
  if (await isStoreSeeded(mysqlUrl)) console.log(`store     data in ${displayUrl(mysqlUrl)} kept as it is`);
  else {
    const seeded = await seedStore({ mysqlUrl, plan: { kind: "demo" } });
    console.log(`store     demo data loaded: ${JSON.stringify(seeded.rows)}`);
  }
  const tablePrefix = process.env.FERRY_TABLE_PREFIX ?? "";
  const client = dynamoDbClient(endpoint);
  let operators = 0;
  try {
    await applyTables(client, contract, { prefix: tablePrefix });
    operators = (await new OperatorStore(client, { tablePrefix }).list()).length;
  } finally {
    client.destroy();
  }
  const store = await startStoreServer({ mysqlUrl, dynamodbEndpoint: endpoint, tablePrefix, port, host: values.host });
  const admin = await startAdminServer({
    dynamodbEndpoint: endpoint,
    mysqlUrl,
    contract,
    tablePrefix,
    port: adminPort,
    // Loopback unless asked: the console moves the phase, and its cookies are not Secure without HTTPS.
    host: values["admin-host"],
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  console.log(`\nstore     ${store.url}  (phase ${store.fleet.phase.phase()}; log in as shopper / ferry-demo)`);
  console.log(
    `admin     ${admin.url}  (${operators === 0 ? "no operator yet: make the first one with `pnpm ferry admin create-operator <name>`" : `${operators} operator account${operators === 1 ? "" : "s"}`})`,
  );
  console.log("          Ctrl-C stops both");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping ...");
    await Promise.all([store.close(), admin.close()]);
    // The stack goes down only when this run brought all of it up; a part that ran before keeps running.
    const ours = (["mysql", "dynamodb"] as const).filter((name) => state[name]?.startedByFerry);
    if (startedNow.length > 0 && startedNow.length === ours.length && !keptFromBefore) {
      await stackDown({ onProgress: (line) => console.log(line) });
    } else console.log("the stack keeps running (it was up before): `pnpm ferry stack down` stops it");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error: unknown) => {
  console.error(`store: ${describeError(error)}`);
  process.exitCode = 1;
});
