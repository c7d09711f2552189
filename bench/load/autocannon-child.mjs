// The load of `pnpm bench store`, run in a process of its own (so that the store's process is measured alone): reads
// an autocannon configuration as JSON from argv[2], runs it, prints the result's figures as one JSON line.
//
// - `path` (not autocannon's): the path every request asks for, put into the URL;
// - `sessions` (not autocannon's): a list of header sets, one per connection in turn (each connection a shopper of its
//   own, so that connections do not race for one cart line); merged over `headers` into every request.
// - Latencies are measured from autocannon's own response events, in fractional milliseconds (its histogram keeps
//   whole ones), for 2xx answers only, as autocannon does.
import autocannon from "autocannon";

const { sessions, path, ...config } = JSON.parse(process.argv[2] ?? "{}");
// autocannon takes the path from the URL (a top-level `path` option is ignored): put it there.
if (typeof path === "string") config.url = `${config.url}${path}`;
if (Array.isArray(sessions) && sessions.length > 0) {
  let next = 0;
  const requests = config.requests ?? [{ method: config.method ?? "GET", path: path ?? "/" }];
  config.setupClient = (client) => {
    const own = sessions[next % sessions.length];
    next += 1;
    client.setRequests(requests.map((request) => ({ ...request, headers: { ...(config.headers ?? {}), ...own } })));
  };
}

const times = [];
const result = await new Promise((resolve, reject) => {
  const instance = autocannon({ ...config, renderProgressBar: false, renderResultsTable: false }, (error, out) =>
    error ? reject(error) : resolve(out),
  );
  instance.on("response", (_client, status, _bytes, time) => {
    if (status >= 200 && status < 300) times.push(time);
  });
});
times.sort((a, b) => a - b);
const percentile = (p) => (times.length === 0 ? 0 : times[Math.min(times.length - 1, Math.floor(p * times.length))]);
const round = (ms) => Math.round(ms * 100) / 100;
console.log(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    p50: round(percentile(0.5)),
    p99: round(percentile(0.99)),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
