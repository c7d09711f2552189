// The load of `pnpm bench store`, run in a process of its own (so that the store's process is measured alone): reads
// an autocannon configuration as JSON from argv[2], runs it, prints the result's figures as one JSON line.
import autocannon from "autocannon";

const config = JSON.parse(process.argv[2] ?? "{}");
const result = await autocannon({ ...config, renderProgressBar: false, renderResultsTable: false });
console.log(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
