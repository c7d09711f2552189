/**
 * Metrics: a small registry of counters, gauges and histograms with labels, rendered as Prometheus text (exposition
 * format 0.0.4) for the apps to mount at /metrics. One registry per process; every part of the runtime that counts
 * something registers its metrics on it (registering the same metric again returns the one already there; a gauge
 * keeps its first callback).
 *
 * The runtime's own metrics are named `ferry_*`: `ferry_store_request_seconds{store,operation}` (time()), the shadow
 * readers' `ferry_shadow_*` counters, and whatever gauges an app adds (outbox depth, phase) through callbacks.
 */
import type { StoreName } from "../phases.ts";
import { escapeHelp, formatLabels, formatNumber, isLabelName, isMetricName } from "./exposition.ts";

/** The value of each of a metric's labels (numbers and booleans are written as text). */
export type LabelValues<L extends string> = { readonly [K in L]: string | number | boolean | bigint };

export interface MetricOptions<L extends string> {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total` by convention. */
  name: string;
  /** One line saying what is counted or measured, and in which unit. */
  help: string;
  /** The label names, in the order they are written. */
  labels?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, ascending (the `+Inf` bucket is implicit). Default: DEFAULT_BUCKETS. */
  buckets?: readonly number[];
}

/** One sample of a gauge read through a callback. */
export interface GaugeSample<L extends string> {
  labels: LabelValues<L>;
  value: number;
}

/** What a gauge's callback returns: one value (a gauge without labels) or one sample per label set. */
export type GaugeReading<L extends string> = number | readonly GaugeSample<L>[];

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * Reads the gauge's current value(s) when the metrics are rendered (e.g. the outbox depth, the cached phase).
   * prometheus() uses a synchronous result at once and, for a promise, the last value it resolved to; scrape()
   * awaits it. A callback that throws or rejects leaves the gauge without samples until it succeeds again.
   */
  collect?: () => GaugeReading<L> | Promise<GaugeReading<L>>;
}

/** The store operations ferry_store_request_seconds distinguishes. */
export type StoreOperation = "get" | "list" | "create" | "update" | "delete" | "transaction";

/** The histogram time() observes. */
export const STORE_REQUEST_SECONDS = "ferry_store_request_seconds";

/**
 * Default histogram buckets, in seconds, for calls to a database: 0.5 ms to 10 s, finer where local and in-region
 * calls land (1-50 ms).
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** A metric defined wrongly, registered twice with different shapes, or used with the wrong labels. */
export class MetricsError extends Error {
  override readonly name = "MetricsError";
}

type Kind = "counter" | "gauge" | "histogram";

/** One metric family: its definition and its series, one per label set. */
abstract class Metric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly L[];
  abstract readonly kind: Kind;
  /** Series by their label values (JSON of the values in label order). */
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(options: MetricOptions<L>, reserved: readonly string[] = []) {
    if (!isMetricName(options.name)) throw new MetricsError(`'${options.name}' is not a valid metric name`);
    const labels = options.labels ?? [];
    for (const label of labels) {
      if (!isLabelName(label) || reserved.includes(label)) {
        throw new MetricsError(`metric ${options.name}: '${label}' is not a valid label name here`);
      }
    }
    if (new Set(labels).size !== labels.length) {
      throw new MetricsError(`metric ${options.name}: a label name is given twice`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labels = [...labels];
  }

  /** The label values in label order; MetricsError for a missing or unknown label. */
  protected valuesOf(labels: LabelValues<L> | undefined): string[] {
    const given = (labels ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(given)) {
      if (!(this.labels as readonly string[]).includes(name)) {
        throw new MetricsError(`metric ${this.name} has no label '${name}' (its labels: ${this.labels.join(", ")})`);
      }
    }
    return this.labels.map((name) => {
      const value = given[name];
      if (value === undefined || value === null)
        throw new MetricsError(`metric ${this.name} needs its label '${name}'`);
      return String(value);
    });
  }

  protected entry(labels: LabelValues<L> | undefined, create: () => S): S {
    const values = this.valuesOf(labels);
    const key = JSON.stringify(values);
    let found = this.series.get(key);
    if (!found) {
      found = { values, state: create() };
      this.series.set(key, found);
    }
    return found.state;
  }

  /** The series sorted by their label values, so the text does not depend on the order of events. */
  protected sortedSeries(): Array<{ values: string[]; state: S }> {
    return [...this.series.values()].sort((a, b) => compareValues(a.values, b.values));
  }

  /** The same definition (kind, labels and, for histograms, buckets). */
  sameShape(kind: Kind, labels: readonly string[], buckets?: readonly number[]): boolean {
    return kind === this.kind && sameList(labels, this.labels) && (buckets === undefined || this.sameBuckets(buckets));
  }

  protected sameBuckets(_buckets: readonly number[]): boolean {
    return true;
  }

  header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.kind}\n`;
  }

  abstract render(): string;
}

/** A count that only goes up (events, errors); by convention named `*_total`. */
export class Counter<L extends string = never> extends Metric<L, { value: number }> {
  readonly kind = "counter";

  /** Adds `by` (default 1, never negative) to the series of these labels. */
  inc(labels?: LabelValues<L>, by = 1): void {
    if (!(by >= 0)) throw new MetricsError(`counter ${this.name} only goes up; got ${by}`);
    this.entry(labels, () => ({ value: 0 })).value += by;
  }

  /** The current count of the series of these labels (0 when it was never incremented). */
  value(labels?: LabelValues<L>): number {
    return this.series.get(JSON.stringify(this.valuesOf(labels)))?.state.value ?? 0;
  }

  render(): string {
    let text = this.header();
    // A counter without labels is always shown, from 0, so that rate() works from the first scrape.
    if (this.labels.length === 0 && this.series.size === 0) return `${text}${this.name} 0\n`;
    for (const { values, state } of this.sortedSeries()) {
      text += `${this.name}${formatLabels(this.labels, values)} ${formatNumber(state.value)}\n`;
    }
    return text;
  }
}

/** A value that goes up and down: set directly, or read through a callback when the metrics are rendered. */
export class Gauge<L extends string = never> extends Metric<L, { value: number }> {
  readonly kind = "gauge";
  private readonly collect: GaugeOptions<L>["collect"];
  private pending: Promise<void> | undefined;

  constructor(options: GaugeOptions<L>) {
    super(options);
    this.collect = options.collect;
  }

  /** Sets the series of these labels (for gauges without a callback). */
  set(labels: LabelValues<L> | undefined, value: number): void {
    if (this.collect) throw new MetricsError(`gauge ${this.name} is read through its callback; it cannot be set`);
    this.entry(labels, () => ({ value: 0 })).value = value;
  }

  /** The current value of the series of these labels (what was set, or the last reading). */
  value(labels?: LabelValues<L>): number | undefined {
    return this.series.get(JSON.stringify(this.valuesOf(labels)))?.state.value;
  }

  /** Runs an asynchronous callback and waits for it (scrape()); a synchronous one is read when rendering. */
  async refresh(): Promise<void> {
    if (!this.collect) return;
    const reading = this.read();
    if (reading instanceof Promise) await reading;
  }

  /** Reads the callback: a synchronous reading is applied now; an asynchronous one when it resolves. */
  private read(): Promise<void> | undefined {
    const collect = this.collect;
    if (!collect) return undefined;
    let reading: GaugeReading<L> | Promise<GaugeReading<L>>;
    try {
      reading = collect();
    } catch {
      this.apply(undefined);
      return undefined;
    }
    if (!(reading instanceof Promise)) {
      this.apply(reading);
      return undefined;
    }
    // One reading at a time: a slow callback is not started again by every scrape.
    this.pending ??= reading.then(
      (value) => {
        this.pending = undefined;
        this.apply(value);
      },
      () => {
        this.pending = undefined;
        this.apply(undefined);
      },
    );
    return this.pending;
  }

  private apply(reading: GaugeReading<L> | undefined): void {
    this.series.clear();
    if (reading === undefined) return;
    try {
      if (typeof reading === "number") {
        this.entry(undefined, () => ({ value: 0 })).value = reading;
      } else {
        for (const sample of reading) this.entry(sample.labels, () => ({ value: 0 })).value = sample.value;
      }
    } catch {
      // A reading with the wrong labels is dropped as a whole rather than shown in part.
      this.series.clear();
    }
  }

  render(): string {
    // A synchronous callback is applied now; an asynchronous one keeps showing its last reading meanwhile.
    this.read();
    let text = this.header();
    for (const { values, state } of this.sortedSeries()) {
      text += `${this.name}${formatLabels(this.labels, values)} ${formatNumber(state.value)}\n`;
    }
    return text;
  }
}

/** Observations counted into buckets (durations, sizes), with their sum and count. */
export class Histogram<L extends string = never> extends Metric<L, { counts: number[]; sum: number; count: number }> {
  readonly kind = "histogram";
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions<L>) {
    super(options, ["le"]);
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
    if (
      buckets.length === 0 ||
      buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= (buckets[i - 1] ?? bound)))
    ) {
      throw new MetricsError(`histogram ${options.name}: buckets must be finite and strictly ascending`);
    }
    this.buckets = buckets;
  }

  /** Counts one observation (NaN is ignored). */
  observe(labels: LabelValues<L> | undefined, value: number): void {
    if (Number.isNaN(value)) return;
    const state = this.entry(labels, () => ({
      counts: new Array<number>(this.buckets.length).fill(0),
      sum: 0,
      count: 0,
    }));
    const bucket = this.buckets.findIndex((bound) => value <= bound);
    if (bucket >= 0) state.counts[bucket] = (state.counts[bucket] ?? 0) + 1;
    state.sum += value;
    state.count += 1;
  }

  /** The number of observations and their sum for these labels. */
  value(labels?: LabelValues<L>): { count: number; sum: number } {
    const state = this.series.get(JSON.stringify(this.valuesOf(labels)))?.state;
    return { count: state?.count ?? 0, sum: state?.sum ?? 0 };
  }

  protected override sameBuckets(buckets: readonly number[]): boolean {
    return sameList(buckets, this.buckets);
  }

  render(): string {
    let text = this.header();
    const names = [...this.labels, "le"];
    for (const { values, state } of this.sortedSeries()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += state.counts[i] ?? 0;
        text += `${this.name}_bucket${formatLabels(names, [...values, formatNumber(bound)])} ${cumulative}\n`;
      });
      text += `${this.name}_bucket${formatLabels(names, [...values, "+Inf"])} ${state.count}\n`;
      const labels = formatLabels(this.labels, values);
      text += `${this.name}_sum${labels} ${formatNumber(state.sum)}\n`;
      text += `${this.name}_count${labels} ${state.count}\n`;
    }
    return text;
  }
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** The registry: metrics by name, rendered in the order they were registered. */
export class Metrics {
  private readonly metrics = new Map<string, AnyMetric>();
  private storeRequests: Histogram<"store" | "operation"> | undefined;

  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.register("counter", options, undefined, () => new Counter<L>(options));
  }

  gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
    return this.register("gauge", options, undefined, () => new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.register("histogram", options, options.buckets ?? DEFAULT_BUCKETS, () => new Histogram<L>(options));
  }

  /**
   * Runs one call to a store and observes how long it took in ferry_store_request_seconds{store,operation}, whether
   * it succeeded or not; its result or error is passed on as is.
   */
  async time<R>(store: StoreName, operation: StoreOperation, fn: () => Promise<R>): Promise<R> {
    this.storeRequests ??= this.histogram({
      name: STORE_REQUEST_SECONDS,
      help: "Duration of calls to each store, in seconds, failed calls included.",
      labels: ["store", "operation"],
    });
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.storeRequests.observe({ store, operation }, (performance.now() - started) / 1000);
    }
  }

  /** The metric registered under a name, if any. */
  get(name: string): AnyMetric | undefined {
    return this.metrics.get(name);
  }

  /**
   * Every metric as Prometheus text (exposition format 0.0.4, content type `text/plain; version=0.0.4`). Gauges with
   * an asynchronous callback show their last reading; use scrape() to read them first.
   */
  prometheus(): string {
    let text = "";
    for (const metric of this.metrics.values()) text += metric.render();
    return text;
  }

  /** Reads every gauge's callback (asynchronous ones awaited), then renders: what a /metrics handler serves. */
  async scrape(): Promise<string> {
    await Promise.all(
      [...this.metrics.values()].map((metric) => (metric instanceof Gauge ? metric.refresh() : undefined)),
    );
    return this.prometheus();
  }

  private register<M extends AnyMetric>(
    kind: Kind,
    options: MetricOptions<string>,
    buckets: readonly number[] | undefined,
    create: () => M,
  ): M {
    const existing = this.metrics.get(options.name);
    if (existing) {
      if (!existing.sameShape(kind, options.labels ?? [], buckets)) {
        throw new MetricsError(
          `metric ${options.name} is already registered as a ${existing.kind} with labels [${existing.labels.join(", ")}]`,
        );
      }
      return existing as M;
    }
    const metric = create();
    this.metrics.set(options.name, metric);
    return metric;
  }
}

/** The content type of prometheus() / scrape() output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
