import { describe, expect, it } from "vitest";
import { DEFAULT_BUCKETS, Metrics, MetricsError, STORE_REQUEST_SECONDS } from "../src/metrics/index.ts";

describe("Metrics", () => {
  it("renders a small registry as Prometheus text exposition format 0.0.4", () => {
    const metrics = new Metrics();
    const requests = metrics.counter({ name: "app_requests_total", help: "Requests served." });
    const mismatches = metrics.counter({
      name: "app_mismatches_total",
      help: 'Mismatches, by entity.\nSecond line with a \\ and "quotes".',
      labels: ["entity"],
    });
    let depth = 7;
    metrics.gauge({ name: "app_queue_depth", help: "Entries waiting.", collect: () => depth });
    metrics.gauge({
      name: "app_phase",
      help: "The phase each instance runs.",
      labels: ["instance"],
      collect: () => [
        { labels: { instance: "b" }, value: 3 },
        { labels: { instance: "a" }, value: 2 },
      ],
    });
    const latency = metrics.histogram({
      name: "app_latency_seconds",
      help: "Latency.",
      labels: ["store"],
      buckets: [0.01, 0.1, 1],
    });
    metrics.counter({ name: "app_unused_total", help: "Never incremented, labelled.", labels: ["kind"] });

    requests.inc();
    requests.inc(undefined, 2);
    mismatches.inc({ entity: "User" });
    mismatches.inc({ entity: 'We"ird\\\nName' }, 4);
    mismatches.inc({ entity: "Order" });
    latency.observe({ store: "mysql" }, 0.005);
    latency.observe({ store: "mysql" }, 0.05);
    latency.observe({ store: "mysql" }, 0.5);
    latency.observe({ store: "mysql" }, 2);
    latency.observe({ store: "dynamodb" }, 0.1);
    depth = 9;

    expect(metrics.prometheus()).toBe(
      [
        "# HELP app_requests_total Requests served.",
        "# TYPE app_requests_total counter",
        "app_requests_total 3",
        '# HELP app_mismatches_total Mismatches, by entity.\\nSecond line with a \\\\ and "quotes".',
        "# TYPE app_mismatches_total counter",
        'app_mismatches_total{entity="Order"} 1',
        'app_mismatches_total{entity="User"} 1',
        'app_mismatches_total{entity="We\\"ird\\\\\\nName"} 4',
        "# HELP app_queue_depth Entries waiting.",
        "# TYPE app_queue_depth gauge",
        "app_queue_depth 9",
        "# HELP app_phase The phase each instance runs.",
        "# TYPE app_phase gauge",
        'app_phase{instance="a"} 2',
        'app_phase{instance="b"} 3',
        "# HELP app_latency_seconds Latency.",
        "# TYPE app_latency_seconds histogram",
        'app_latency_seconds_bucket{store="dynamodb",le="0.01"} 0',
        'app_latency_seconds_bucket{store="dynamodb",le="0.1"} 1',
        'app_latency_seconds_bucket{store="dynamodb",le="1"} 1',
        'app_latency_seconds_bucket{store="dynamodb",le="+Inf"} 1',
        'app_latency_seconds_sum{store="dynamodb"} 0.1',
        'app_latency_seconds_count{store="dynamodb"} 1',
        'app_latency_seconds_bucket{store="mysql",le="0.01"} 1',
        'app_latency_seconds_bucket{store="mysql",le="0.1"} 2',
        'app_latency_seconds_bucket{store="mysql",le="1"} 3',
        'app_latency_seconds_bucket{store="mysql",le="+Inf"} 4',
        'app_latency_seconds_sum{store="mysql"} 2.555',
        'app_latency_seconds_count{store="mysql"} 4',
        "# HELP app_unused_total Never incremented, labelled.",
        "# TYPE app_unused_total counter",
        "",
      ].join("\n"),
    );
  });

  it("time() observes each store call, failed ones too, and passes results and errors on unchanged", async () => {
    const metrics = new Metrics();
    expect(await metrics.time("mysql", "get", async () => "row")).toBe("row");
    const failure = new Error("connection lost");
    await expect(
      metrics.time("dynamodb", "list", async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    await metrics.time("mysql", "get", async () => undefined);

    const text = metrics.prometheus();
    expect(text).toContain(
      `# HELP ${STORE_REQUEST_SECONDS} Duration of calls to each store, in seconds, failed calls included.\n# TYPE ${STORE_REQUEST_SECONDS} histogram\n`,
    );
    expect(text).toContain(`${STORE_REQUEST_SECONDS}_count{store="mysql",operation="get"} 2\n`);
    expect(text).toContain(`${STORE_REQUEST_SECONDS}_count{store="dynamodb",operation="list"} 1\n`);
    expect(text).toContain(`${STORE_REQUEST_SECONDS}_bucket{store="mysql",operation="get",le="+Inf"} 2\n`);
    // The default buckets, for millisecond-scale database calls, each on its own line.
    const bounds = [...text.matchAll(/store="mysql",operation="get",le="([^"]+)"/g)].map((match) => match[1]);
    expect(bounds).toEqual([...DEFAULT_BUCKETS.map(String), "+Inf"]);
    expect(DEFAULT_BUCKETS[0]).toBe(0.0005);
    expect(text).toMatch(new RegExp(`${STORE_REQUEST_SECONDS}_sum\\{store="mysql",operation="get"\\} \\d`));
  });

  it("reads asynchronous gauges in scrape(); prometheus() shows their last reading; a failing callback shows none", async () => {
    const metrics = new Metrics();
    let depth = 1;
    let broken = false;
    metrics.gauge({
      name: "ferry_outbox_depth",
      help: "Entries waiting in the outbox, by target store.",
      labels: ["target"],
      collect: async () => {
        if (broken) throw new Error("storage unreachable");
        return [
          { labels: { target: "dynamodb" }, value: depth },
          { labels: { target: "mysql" }, value: 0 },
        ];
      },
    });
    const header =
      "# HELP ferry_outbox_depth Entries waiting in the outbox, by target store.\n# TYPE ferry_outbox_depth gauge\n";
    expect(await metrics.scrape()).toBe(
      `${header}ferry_outbox_depth{target="dynamodb"} 1\nferry_outbox_depth{target="mysql"} 0\n`,
    );
    depth = 5;
    // Synchronously: the last reading (the new one lands for the next render).
    expect(metrics.prometheus()).toBe(
      `${header}ferry_outbox_depth{target="dynamodb"} 1\nferry_outbox_depth{target="mysql"} 0\n`,
    );
    expect(await metrics.scrape()).toBe(
      `${header}ferry_outbox_depth{target="dynamodb"} 5\nferry_outbox_depth{target="mysql"} 0\n`,
    );
    broken = true;
    expect(await metrics.scrape()).toBe(header);
  });

  it("gives back the metric already registered under a name, and refuses a different one or bad names and labels", () => {
    const metrics = new Metrics();
    const counter = metrics.counter({ name: "x_total", help: "X.", labels: ["entity"] });
    expect(metrics.counter({ name: "x_total", help: "X.", labels: ["entity"] })).toBe(counter);
    expect(() => metrics.counter({ name: "x_total", help: "X.", labels: ["store"] })).toThrow(
      new MetricsError("metric x_total is already registered as a counter with labels [entity]"),
    );
    expect(() => metrics.gauge({ name: "x_total", help: "X.", labels: ["entity"] })).toThrow(
      "metric x_total is already registered as a counter with labels [entity]",
    );
    expect(() => metrics.counter({ name: "1bad", help: "" })).toThrow("'1bad' is not a valid metric name");
    expect(() => metrics.counter({ name: "ok_total", help: "", labels: ["__reserved"] })).toThrow(
      new MetricsError("metric ok_total: '__reserved' is not a valid label name here"),
    );
    expect(() => metrics.histogram({ name: "h", help: "", labels: ["le"] })).toThrow(
      new MetricsError("metric h: 'le' is not a valid label name here"),
    );
    expect(() => metrics.histogram({ name: "h2", help: "", buckets: [1, 0.5] })).toThrow(
      "buckets must be finite and strictly ascending",
    );
    // Labels are checked at run time too (for callers without the static types).
    expect(() => counter.inc({} as { entity: string })).toThrow("metric x_total needs its label 'entity'");
    expect(() => counter.inc({ entity: "A", extra: "B" } as { entity: string })).toThrow("has no label 'extra'");
    expect(() => counter.inc({ entity: "A" }, -1)).toThrow("only goes up");
    counter.inc({ entity: "A" }, 2);
    expect(counter.value({ entity: "A" })).toBe(2);
    expect(counter.value({ entity: "B" })).toBe(0);
  });
});
