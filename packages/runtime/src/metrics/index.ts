/** Metrics: counters, gauges and histograms with labels, rendered as Prometheus text for /metrics. */

export {
  Counter,
  DEFAULT_BUCKETS,
  Gauge,
  type GaugeOptions,
  type GaugeReading,
  type GaugeSample,
  Histogram,
  type HistogramOptions,
  type LabelValues,
  type MetricOptions,
  Metrics,
  MetricsError,
  PROMETHEUS_CONTENT_TYPE,
  STORE_REQUEST_SECONDS,
  type StoreOperation,
} from "./registry.ts";
