/// The explorer page's stylesheet, served at `/style.css` (WebServer).
enum ExplorerStyle {
    static let css = #"""
:root {
  --bg: #f7f7f5; --fg: #1d1f21; --muted: #6a6f73; --line: #d9dbdc; --accent: #1f6feb;
  --ocean: #e6eef5; --land: #d5dccf; --grid: #c5d0da;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 14px;
}
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: baseline; gap: 1em; padding: 0.6em 1.2em; background: #20262e; color: #fff; }
header h1 { font-size: 1.2em; margin: 0; font-weight: 600; }
.status { color: #b9c2cc; font-size: 0.9em; }
.status.bad { color: #ffb4a8; }
main { padding: 0.5em 1.2em 2em; max-width: 1400px; }
section { margin: 1em 0 1.6em; }
h2 { font-size: 1.05em; margin: 0 0 0.4em; border-bottom: 1px solid var(--line); padding-bottom: 0.2em; }
h3 { margin: 0 0 0.4em; font-size: 1em; }
.count { color: var(--muted); font-weight: normal; }
.hint { color: var(--muted); margin: 0.3em 0; }
.problem { color: #9a2a1b; margin: 0.3em 0; }
code, .mono, td.address, td.key { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.95em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-top: 0.4em; }
th, td { text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: #eef0f1; font-weight: 600; font-size: 0.9em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f1f5fb; }
#nodes tbody tr { cursor: pointer; }
tr.selected, tr.selected:hover { background: #dbe9ff; }
tr.empty td { color: var(--muted); font-style: italic; }
input[type=search] { width: 28em; max-width: 100%; padding: 0.3em; }
form#filters { display: flex; flex-wrap: wrap; gap: 0.4em 1em; align-items: end; background: #fff; border: 1px solid var(--line); padding: 0.6em; }
form#filters label { display: flex; flex-direction: column; font-size: 0.85em; color: var(--muted); }
form#filters label.flag { flex-direction: row; align-items: center; gap: 0.3em; }
form#filters input[type=text] { width: 8em; padding: 0.2em; font-family: inherit; }
form#filters .buttons { display: flex; gap: 0.4em; }
.directory { display: flex; gap: 1em; align-items: flex-start; margin-top: 0.6em; flex-wrap: wrap; }
figure.map { margin: 0; flex: 1 1 640px; min-width: 320px; }
svg#map { width: 100%; height: auto; display: block; border: 1px solid var(--line); background: var(--ocean); }
svg#map .ocean { fill: var(--ocean); }
svg#map .land { fill: var(--land); stroke: none; }
svg#map .grid { stroke: var(--grid); stroke-width: 0.3; fill: none; }
svg#map .grid.major { stroke-width: 0.6; }
svg#map circle { stroke: #20262e; stroke-width: 0.25; cursor: pointer; }
svg#map circle.selected { stroke: #000; stroke-width: 0.9; }
figcaption { color: var(--muted); font-size: 0.85em; margin-top: 0.3em; display: flex; gap: 1.5em; flex-wrap: wrap; }
.legend { display: inline-flex; align-items: center; gap: 0.5em; }
.ramp { display: inline-block; width: 10em; height: 0.8em; border: 1px solid var(--line);
  background: linear-gradient(to right, hsl(0 75% 48%), hsl(40 75% 48%), hsl(80 75% 42%), hsl(120 60% 38%)); }
aside#details { flex: 0 1 380px; background: #fff; border: 1px solid var(--line); padding: 0.6em 0.8em; }
aside#details .address-line { margin: 0 0 0.5em; word-break: break-all; }
button { font: inherit; padding: 0.15em 0.7em; cursor: pointer; }
#copy-result { color: var(--muted); font-size: 0.85em; }
"""#
}
