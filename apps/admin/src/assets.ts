import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** uPlot (the npm package `uplot`), served from the package as it ships: the charts' library, no build step. */
export const UPLOT_SCRIPT = readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8");
export const UPLOT_STYLESHEET = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");

/** The console's stylesheet, served from the package (no build step). */
export const STYLESHEET = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --bg: #f6f7f9; --card: #fff; --accent: #1f5fbf;
  --ok: #17733a; --ok-bg: #e6f4ea; --bad: #a4262c; --bad-bg: #fbe9ea; --warn-bg: #fff4d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { background: #18202e; color: #fff; }
header .bar { max-width: 1100px; margin: 0 auto; padding: 10px 20px; display: flex; gap: 20px; align-items: center; flex-wrap: wrap; }
header a { color: #dfe7f5; text-decoration: none; }
header a.brand { font-weight: 700; color: #fff; margin-right: auto; }
header form { margin: 0; }
header .who { color: #9aa6b8; }
header nav.bar { padding-top: 0; gap: 4px 22px; }
header nav a { padding: 2px 0; border-bottom: 2px solid transparent; }
header nav a:hover { border-bottom-color: #dfe7f5; }
.submit { display: block; }
header button { background: transparent; color: #dfe7f5; border: 1px solid #4a5568; border-radius: 6px; padding: 3px 10px; cursor: pointer; }
main { max-width: 1100px; margin: 0 auto; padding: 20px; }
h1 { font-size: 1.5rem; margin: 0 0 12px; }
h2 { font-size: 1.1rem; margin: 0 0 10px; }
h3 { font-size: .95rem; margin: 14px 0 6px; }
.scroll { overflow-x: auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 16px; overflow-x: auto; min-width: 0; }
.grid > .card { margin-bottom: 0; }
.grid { margin-bottom: 16px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
.phase-number { font-size: 2.4rem; font-weight: 700; line-height: 1; }
.muted { color: var(--muted); }
.flags { display: flex; flex-wrap: wrap; gap: 6px; margin: 10px 0; padding: 0; list-style: none; }
.flag { border-radius: 999px; padding: 2px 10px; font-size: .85rem; border: 1px solid var(--line); }
.flag.on { background: var(--ok-bg); color: var(--ok); border-color: #b7dfc3; }
.flag.off { color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
.met { color: var(--ok); } .unmet { color: var(--bad); }
.stale { color: var(--bad); font-weight: 600; }
.notice { border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
.notice.ok { background: var(--ok-bg); color: var(--ok); }
.notice.bad { background: var(--bad-bg); color: var(--bad); }
.notice.warn { background: var(--warn-bg); }
label { display: block; font-weight: 600; margin: 10px 0 4px; }
input[type=text], input[type=password] { width: 100%; max-width: 360px; padding: 8px 10px; border: 1px solid #b9c0cc; border-radius: 6px; font: inherit; }
.field-error { color: var(--bad); font-size: .88rem; margin-top: 3px; }
button.primary { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: 8px 16px; font: inherit; font-weight: 600; cursor: pointer; margin-top: 12px; }
button.danger { background: var(--bad); }
button:disabled { opacity: .5; cursor: not-allowed; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px 10px; margin: 8px 0; }
legend { font-weight: 600; padding: 0 4px; }
.buttons { display: flex; flex-wrap: wrap; gap: 0 12px; }
.check { display: inline-flex; align-items: center; gap: 4px; margin: 4px 14px 0 0; }
.check label { display: inline; font-weight: normal; margin: 0; }
input[inputmode=numeric], input[inputmode=decimal] { width: 100%; max-width: 200px; padding: 8px 10px; border: 1px solid #b9c0cc; border-radius: 6px; font: inherit; }
.checks { list-style: none; padding: 0; margin: 8px 0; }
.checks li { margin: 3px 0; }
.login { max-width: 400px; margin: 60px auto; }
.filters { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: flex-end; }
.filters input, .filters select { width: 180px; padding: 7px 8px; border: 1px solid #b9c0cc; border-radius: 6px; font: inherit; }
.filters .actions { display: flex; gap: 14px; align-items: center; }
.filters .actions button { margin-top: 0; }
td { overflow-wrap: anywhere; }
td:first-child { overflow-wrap: normal; }
.difference { border-top: 1px solid var(--line); padding: 10px 0; }
table.diff { margin-top: 6px; }
table.diff tr.differs td:nth-child(n+2) { background: var(--bad-bg); }
.chart { margin: 12px 0 0; min-height: 200px; }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, monospace; }
@media (max-width: 600px) { main { padding: 12px; } .phase-number { font-size: 2rem; } table.fleet th:nth-child(2), table.fleet td:nth-child(2) { display: none; } }
`;
