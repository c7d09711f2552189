// The journey's load, in a process of its own: shoppers on the store processes, through autocannon (one instance per
// store URL, its connections each a shopper in turn). Config as JSON in argv[2]:
//
//   { urls: string[], connections: number (per URL), rate?: number (requests/s over all URLs), products: string[], leaves: string[], words: string[],
//     log: file, stats: file, failures: file, card: {...} }
//
// Each connection loops over one visit: register (a new shopper), browse a category, search, open a product, add it
// to the cart, check out, look at the order, cancel it (every other visit; otherwise the order history), and change
// the profile's email (its unique marker moves). Each connection buys its own products (products[i], i + n, ...), so
// that no two connections race for one product's stock.
//
// Writes, as JSON lines: to `log`, what the store said it did (every shopper it registered, every email change and
// order it made, every cancel it confirmed: the replay checks them after; a cancel or an email change is logged when
// sent too, since one whose answer the load never sees may still have been made), to `stats` one line per second
// (requests, answers by class, latencies p50/p99), and to `failures` one line per answer other than 2xx and per
// connection error ({ at, step, status }).
// Runs until SIGTERM, then prints one JSON summary line (per step: answers by status; errors; timeouts) and exits.
import { createWriteStream } from "node:fs";
import autocannon from "autocannon";

const config = JSON.parse(process.argv[2] ?? "{}");
const log = createWriteStream(config.log, { flags: "a" });
const stats = createWriteStream(config.stats, { flags: "a" });
const failures = createWriteStream(config.failures, { flags: "a" });
const steps = new Map();
/**
 * Counts an answer (`status` a number, or "error" / "cut"); a failed one is written to the failures file too, with the
 * store's error code and message when it answered one (the API's `{ error: { code, message } }`).
 */
const count = (step, status, url, body) => {
  const row = steps.get(step) ?? {};
  row[status] = (row[status] ?? 0) + 1;
  steps.set(step, row);
  const ok = typeof status === "number" && status >= 200 && status < 300;
  if (ok) return;
  const error = body === undefined ? undefined : json(body)?.error;
  const said =
    error?.code === undefined ? {} : { code: String(error.code), message: String(error.message ?? "").slice(0, 200) };
  failures.write(`${JSON.stringify({ at: Date.now(), step, status: String(status), url, ...said })}\n`);
};
let shopper = 0;
let connections = 0;
const unique = () => `${process.pid.toString(36)}${(shopper++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const pick = (list, i) => list[i % list.length];

function cookieOf(headers) {
  const raw = headers["set-cookie"];
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return all.map((c) => String(c).split(";")[0]).join("; ");
}

function json(body) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The headers of a logged-in shopper's request (its session cookie and form token). */
const auth = (context) => ({
  cookie: context.cookie,
  "x-csrf-token": context.csrf,
  "content-type": "application/json",
});

/** One connection's visit, looped: `own` is the connection's number among all of the load's connections. */
function visit(own, url) {
  let round = 0;
  // Connection `own` buys products own, own + n, own + 2n, ... (n connections in all): never another's.
  const slots = Math.max(1, Math.floor(config.products.length / config.totalConnections));
  const product = () => config.products[own + (round % slots) * config.totalConnections];
  return [
    {
      method: "GET",
      path: "/api/session",
      setupRequest: (request) => {
        round += 1;
        return request;
      },
      onResponse: (status, body, context, headers) => {
        count("session", status, url, body);
        context.cookie = cookieOf(headers);
        context.csrf = json(body)?.csrf;
      },
    },
    {
      method: "POST",
      path: "/api/users",
      setupRequest: (request, context) => {
        const name = `load_${unique()}`;
        context.name = name;
        return {
          ...request,
          headers: auth(context),
          body: JSON.stringify({
            username: name,
            email: `${name}@example.com`,
            password: "load password",
            firstName: "Load",
          }),
        };
      },
      onResponse: (status, body, context, headers) => {
        count("register", status, url, body);
        if (status !== 201) return;
        const answer = json(body);
        context.cookie = cookieOf(headers);
        context.csrf = answer?.csrf;
        context.userId = answer?.user?.id;
        // An answer that is not this shopper's (a connection the store closed mid-request): not logged.
        if (typeof context.userId !== "string" || answer?.user?.username !== context.name) return;
        log.write(
          `${JSON.stringify({ at: Date.now(), kind: "user", userId: context.userId, username: context.name, email: `${context.name}@example.com` })}\n`,
        );
      },
    },
    {
      method: "GET",
      setupRequest: (request, context) =>
        context.userId
          ? { ...request, path: `/api/categories/${pick(config.leaves, own + round)}/products?limit=24` }
          : null,
      onResponse: (status, body) => count("browse", status, url, body),
    },
    {
      method: "GET",
      setupRequest: (request) => ({
        ...request,
        path: `/api/search?q=${encodeURIComponent(pick(config.words, own + round))}`,
      }),
      onResponse: (status, body) => count("search", status, url, body),
    },
    {
      method: "GET",
      setupRequest: (request) => ({ ...request, path: `/api/products/${product()}` }),
      onResponse: (status, body) => count("product", status, url, body),
    },
    {
      method: "POST",
      path: "/api/cart",
      setupRequest: (request, context) => ({
        ...request,
        headers: auth(context),
        body: JSON.stringify({ productId: product(), quantity: 1 }),
      }),
      onResponse: (status, body) => count("cart", status, url, body),
    },
    {
      method: "POST",
      path: "/api/checkout",
      setupRequest: (request, context) => ({ ...request, headers: auth(context), body: JSON.stringify(config.card) }),
      onResponse: (status, body, context) => {
        count("checkout", status, url, body);
        if (status !== 201) return;
        const placed = json(body);
        const orderId = placed?.order?.id;
        context.orderId = orderId;
        // An answer without an order is not this request's (a connection the store closed mid-request): not logged.
        if (typeof orderId !== "string") return;
        log.write(
          `${JSON.stringify({ at: Date.now(), kind: "order", orderId, userId: context.userId, productId: product(), quantity: 1, total: placed?.order?.totalAmount })}\n`,
        );
      },
    },
    {
      method: "GET",
      setupRequest: (request, context) =>
        context.orderId ? { ...request, path: `/api/orders/${context.orderId}`, headers: auth(context) } : null,
      onResponse: (status, body) => count("order", status, url, body),
    },
    {
      setupRequest: (request, context) => {
        if (round % 2 !== 0) return { ...request, method: "GET", path: "/api/orders?limit=5", headers: auth(context) };
        // Logged when sent too: a cancel whose answer the load never sees (stopped meanwhile) may still be made.
        log.write(`${JSON.stringify({ at: Date.now(), kind: "cancel-sent", orderId: context.orderId })}\n`);
        return { ...request, method: "POST", path: `/api/orders/${context.orderId}/cancel`, headers: auth(context) };
      },
      onResponse: (status, body, context) => {
        if (round % 2 !== 0) return count("history", status, url, body);
        count("cancel", status, url, body);
        if (status === 200)
          log.write(`${JSON.stringify({ at: Date.now(), kind: "cancel", orderId: context.orderId })}\n`);
      },
    },
    {
      method: "PATCH",
      path: "/api/me",
      setupRequest: (request, context) => {
        context.email = `${context.name}.${round}@example.org`;
        if (typeof context.userId === "string") {
          log.write(
            `${JSON.stringify({ at: Date.now(), kind: "email-sent", userId: context.userId, email: context.email })}\n`,
          );
        }
        return {
          ...request,
          headers: auth(context),
          body: JSON.stringify({ email: context.email, firstName: "Load", lastName: "Changed" }),
        };
      },
      onResponse: (status, body, context) => {
        count("email", status, url, body);
        const user = json(body)?.user;
        if (status !== 200 || typeof context.userId !== "string") return;
        if (user?.id !== context.userId || user?.email !== context.email) return;
        log.write(
          `${JSON.stringify({ at: Date.now(), kind: "email", userId: context.userId, email: context.email })}\n`,
        );
      },
    },
  ];
}

/**
 * autocannon's client reconnects at once when its connection fails or the server closes it (a store process
 * restarting), and keeps the requests it had sent and never got answers to in its queue: every later answer on that
 * connection would be handed to the step before it, for good (a shopper's session taken for another request's
 * answer, each registration then refused). Here a reconnect forgets those requests, starts the visit again from its
 * first step with a fresh context, and waits 200 ms first (instead of retrying in a tight loop while the store is
 * down). This reaches into the client's internals (autocannon 8-9: _connect, pipelinedRequests, requestIterator).
 */
function reconnectCleanly(client, url) {
  const connect = client._connect.bind(client);
  let first = true;
  client._connect = () => {
    if (first) {
      first = false;
      return connect();
    }
    // The requests the closed connection never answered: failed, each counted as cut.
    for (let i = client.pipelinedRequests.size(); i > 0; i--) count("unanswered", "cut", url);
    client.pipelinedRequests.clear();
    const iterator = client.requestIterator;
    // The client's next request (nextRequest) wraps around to the first step, with a fresh context.
    iterator.currentRequestIndex = iterator.requests.length - 1;
    setTimeout(() => {
      if (!client.destroyed) connect();
    }, 200);
  };
}

// One bucket per second: requests answered, by class, and their latencies (2xx and others alike).
const seconds = new Map();
function record(status, duration) {
  const second = Math.floor(Date.now() / 1000);
  let bucket = seconds.get(second);
  if (bucket === undefined) {
    bucket = { ok: 0, client: 0, server: 0, errors: 0, times: [] };
    seconds.set(second, bucket);
  }
  if (status >= 500) bucket.server += 1;
  else if (status >= 400) bucket.client += 1;
  else bucket.ok += 1;
  bucket.times.push(duration);
}
const percentile = (sorted, p) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
function flush(all) {
  const now = Math.floor(Date.now() / 1000);
  for (const [second, bucket] of seconds) {
    if (!all && second >= now) continue;
    const sorted = bucket.times.sort((a, b) => a - b);
    const { times: _, ...counts } = bucket;
    stats.write(
      `${JSON.stringify({ t: second, ...counts, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) })}\n`,
    );
    seconds.delete(second);
  }
}
const flusher = setInterval(() => flush(false), 1000);

let errors = 0;
let timeouts = 0;
const instances = config.urls.map((url, index) => {
  // The whole rate in whole requests per second per URL (autocannon spreads a whole number exactly over its
  // connections); the journey checks it is at least one a second for every connection.
  const rate =
    config.rate === undefined
      ? undefined
      : Math.floor(config.rate / config.urls.length) + (index < config.rate % config.urls.length ? 1 : 0);
  const instance = autocannon({
    url,
    connections: config.connections,
    // The whole load's rate, shared evenly by the store URLs (none: as fast as they answer).
    ...(rate === undefined ? {} : { overallRate: rate }),
    duration: 24 * 3600,
    timeout: 30,
    // The template autocannon builds first; every connection gets a visit of its own (setupClient) before it starts.
    requests: visit(0, url),
    renderProgressBar: false,
    renderResultsTable: false,
    setupClient: (client) => {
      client.setRequests(visit(connections++, url));
      reconnectCleanly(client, url);
    },
  });
  instance.on("response", (_client, status, _bytes, duration) => record(status, duration));
  instance.on("reqError", () => {
    errors += 1;
    failures.write(`${JSON.stringify({ at: Date.now(), step: "connection", status: "error", url })}\n`);
    const second = Math.floor(Date.now() / 1000);
    const bucket = seconds.get(second) ?? { ok: 0, client: 0, server: 0, errors: 0, times: [] };
    bucket.errors += 1;
    seconds.set(second, bucket);
  });
  return new Promise((resolve) => {
    instance.on("done", (result) => {
      timeouts += result.timeouts;
      resolve(result);
    });
    process.once("SIGTERM", () => instance.stop());
  });
});
console.error(`load: ${config.urls.length} x ${config.connections} connections`);
await Promise.all(instances);
clearInterval(flusher);
flush(true);
await Promise.all([log, stats, failures].map((stream) => new Promise((r) => stream.end(r))));
console.log(JSON.stringify({ steps: Object.fromEntries(steps), errors, timeouts }));
process.exit(0);
