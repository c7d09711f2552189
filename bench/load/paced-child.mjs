// The latency runs of `pnpm bench store`, in a process of their own: requests sent at a fixed interval (an open loop:
// each one leaves on its schedule whether or not the one before has answered), each timed from the moment it is sent
// to the end of its answer, in fractional milliseconds. autocannon's `overallRate` sends each second's share in one
// burst (its client resets a per-second count every 1000 ms), so a request's latency there is also the queue of the
// burst it sits in; here it is the request's own.
//
// argv[2]: JSON { url, rate, seconds, warm?, requests: [{ method, path, body? }], sessions?: [headers], headers? }.
// The requests are sent in turn (a sequence, as autocannon's `requests`), each session taking one whole sequence in
// turn. Prints one JSON line: { requestsPerSecond, requests, p50, p99, non2xx, errors, timeouts }.
import { Agent, request } from "node:http";

const config = JSON.parse(process.argv[2] ?? "{}");
const target = new URL(config.url);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const sessions = Array.isArray(config.sessions) && config.sessions.length > 0 ? config.sessions : [{}];
const sequence = config.requests ?? [{ method: "GET", path: target.pathname + target.search }];
const TIMEOUT_MS = 10_000;

/** Sends one request; resolves with its status (0 on error, -1 on timeout) and its time in ms. */
function send(step, headers) {
  return new Promise((resolve) => {
    const started = performance.now();
    const body = step.body === undefined ? undefined : Buffer.from(step.body);
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: step.method ?? "GET",
        path: step.path,
        headers: {
          ...(config.headers ?? {}),
          ...headers,
          ...(body === undefined ? {} : { "content-length": body.length }),
        },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve({ status: -1, ms: performance.now() - started });
    });
    req.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

/** Sends `count` requests at `rate` per second; the sequences of a session never overlap (a shopper's own order). */
async function paced(count, rate) {
  const results = [];
  const chains = sessions.map(() => Promise.resolve());
  const interval = 1000 / rate;
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const turn = Math.floor(i / sequence.length);
    const session = turn % sessions.length;
    const step = sequence[i % sequence.length];
    // A session's next request waits for its previous one (a cart's POST before its DELETE).
    const sent = chains[session].then(() => send(step, sessions[session]));
    chains[session] = sent.then(() => undefined);
    pending.push(sent.then((result) => results.push(result)));
  }
  await Promise.all(pending);
  return { results, seconds: (performance.now() - start) / 1000 };
}

const rate = Number(config.rate);
if (config.warm > 0) await paced(Math.round(config.warm * rate), rate);
const { results, seconds } = await paced(Math.round(config.seconds * rate), rate);
agent.destroy();
const times = results
  .filter(({ status }) => status >= 200 && status < 300)
  .map(({ ms }) => ms)
  .sort((a, b) => a - b);
const percentile = (p) => (times.length === 0 ? 0 : times[Math.min(times.length - 1, Math.floor(p * times.length))]);
const round = (ms) => Math.round(ms * 100) / 100;
console.log(
  JSON.stringify({
    requestsPerSecond: results.length / seconds,
    requests: results.length,
    p50: round(percentile(0.5)),
    p99: round(percentile(0.99)),
    non2xx: results.filter(({ status }) => status > 0 && (status < 200 || status >= 300)).length,
    errors: results.filter(({ status }) => status === 0).length,
    timeouts: results.filter(({ status }) => status === -1).length,
  }),
);
