/**
 * The console's one script, served from the package (no build step): on the shadow reads page it charts the counts by
 * the minute; on the backfill page, it follows the open run
 * through server-sent events (/api/backfill/events, from the progress the backfill keeps in the control table) and
 * updates the counts in place, and charts the items written per second between two events (uPlot); the page works
 * without it (a reload shows the same counts).
 */
export const SCRIPT = `
(() => {
  // A page that shows work under way (a validation, a repair) reloads until it ends.
  const reload = document.querySelector("[data-reload-in]");
  // The page without its query: a flash that said "started" is not said again once the work has ended.
  if (reload) setTimeout(() => location.replace(location.pathname), Number(reload.getAttribute("data-reload-in")) || 2000);
})();
(() => {
  // A backfill run minute by minute (its page, and the open run's): rows written and skipped per second (uPlot).
  const box = document.querySelector("[data-run-history]");
  if (!box) return;
  const draw = () => {
    if (typeof uPlot === "undefined") return;
    const s = JSON.parse(box.getAttribute("data-run-history"));
    const size = () => ({ width: Math.max(240, box.clientWidth), height: 200 });
    const chart = new uPlot({
      ...size(),
      series: [
        {},
        { label: "written/s", stroke: "#1f5fbf", width: 2, fill: "rgba(31,95,191,0.08)" },
        { label: "skipped/s", stroke: "#6b7280", width: 1 },
      ],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, (max ?? 0) * 1.2)] } },
    }, [s.at, s.written, s.skipped], box);
    window.addEventListener("resize", () => chart.setSize(size()));
  };
  if (document.readyState === "complete") draw(); else window.addEventListener("load", draw);
})();
(() => {
  // The shadow reads page: comparisons per minute, and the mismatch rate against the 3 -> 4 threshold (uPlot).
  const box = document.querySelector("[data-shadow-chart]");
  if (!box) return;
  const draw = () => {
    if (typeof uPlot === "undefined") return;
    const s = JSON.parse(box.getAttribute("data-shadow-chart"));
    const size = () => ({ width: Math.max(240, box.clientWidth), height: 220 });
    const chart = new uPlot({
      ...size(),
      series: [
        {},
        { label: "comparisons/min", scale: "n", stroke: "#1f5fbf", width: 2, fill: "rgba(31,95,191,0.08)" },
        { label: "mismatch %", scale: "%", stroke: "#b42318", width: 2 },
        { label: "threshold %", scale: "%", stroke: "#8a6d00", width: 1, dash: [6, 4] },
        { label: "errors+timeouts/min", scale: "n", stroke: "#6b7280", width: 1 },
      ],
      axes: [{}, { scale: "n", size: 60 }, { scale: "%", side: 1, size: 60, grid: { show: false } }],
      scales: {
        x: { time: true },
        n: { range: (u, min, max) => [0, Math.max(10, (max ?? 0) * 1.2)] },
        "%": { range: (u, min, max) => [0, Math.max(s.threshold * 2, (max ?? 0) * 1.2)] },
      },
    }, [s.at, s.comparisons, s.rate, s.at.map(() => s.threshold), s.errors], box);
    window.addEventListener("resize", () => chart.setSize(size()));
  };
  if (document.readyState === "complete") draw(); else window.addEventListener("load", draw);
})();
(() => {
  const card = document.querySelector("[data-live]");
  if (!card || typeof EventSource === "undefined") return;
  const events = new EventSource(card.getAttribute("data-live"));
  const chartBox = card.querySelector("[data-chart]");
  const times = [];
  const rates = [];
  let chart;
  let previous;
  const plot = (run) => {
    if (!chartBox || typeof uPlot === "undefined") return;
    const now = Date.now() / 1000;
    if (previous) {
      const seconds = now - previous.at;
      if (seconds > 0) { times.push(now); rates.push(Math.max(0, (run.written - previous.written) / seconds)); }
    }
    previous = { at: now, written: run.written };
    const width = Math.max(240, chartBox.clientWidth);
    if (!chart) {
      chart = new uPlot({
        width, height: 180,
        series: [{}, { label: "items/s", stroke: "#1f5fbf", width: 2, fill: "rgba(31,95,191,0.08)" }],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, (max ?? 0) * 1.2)] } },
      }, [times, rates], chartBox);
      window.addEventListener("resize", () => chart.setSize({ width: Math.max(240, chartBox.clientWidth), height: 180 }));
    } else chart.setData([times, rates]);
    // The last minute at least (a first point alone would stretch the time axis over years).
    chart.setScale("x", { min: Math.min(times[0] ?? now, now - 60), max: now });
  };
  events.addEventListener("progress", (event) => {
    const run = JSON.parse(event.data);
    const table = card.querySelector("table[data-run]");
    if (!table || table.getAttribute("data-run") !== run.id) { events.close(); location.replace(location.pathname); return; }
    const state = card.querySelector("[data-field=state]");
    if (state) state.textContent = run.state;
    const rate = card.querySelector("[data-field=total-rate]");
    if (rate) rate.textContent = String(Math.round(run.itemsPerSecond));
    for (const entity of run.perEntity) {
      const row = table.querySelector('tr[data-entity="' + CSS.escape(entity.entity) + '"]');
      if (!row) continue;
      const set = (field, text) => { const cell = row.querySelector("[data-field=" + field + "]"); if (cell) cell.textContent = text; };
      set("written", String(entity.written));
      set("skipped", String(entity.skipped));
      set("rejected", String(entity.rejected));
      set("segments", entity.segmentsDone + "/" + entity.segments);
      set("itemsPerSecond", String(Math.round(entity.itemsPerSecond)));
      const bar = row.querySelector("progress");
      const done = entity.written + entity.skipped + entity.rejected;
      if (bar) bar.value = entity.rowsEstimated <= 0 ? 100 : Math.min(100, Math.round((done / entity.rowsEstimated) * 100));
    }
    plot(run);
    if (run.state !== "running") events.close();
  });
  // No run open: a page that showed one (it ended before the stream began) is reloaded once to show how it ended.
  events.addEventListener("idle", () => {
    events.close();
    if (card.querySelector("table[data-run]")) location.replace(location.pathname);
  });
})();
`;
