/// The explorer page's script, served at `/app.js` (WebServer): plain JavaScript, no library.
/// It reads `/api/...` (the admin calls' typed replies, as `planetctl --json` prints them) every
/// few seconds and fills the page; the directory's filter form is built from `/api/filters`
/// (NodeFilter), so its names are `planetctl nodes find`'s, and the address bar's query, by
/// those names, is applied on load.
enum ExplorerScript {
    static let js = #"""
"use strict";

// How often the page asks again. The directory (up to 10^5 records) less often than the rest.
const REFRESH_MS = 3000;
const NODES_REFRESH_MS = 10000;
// Rows drawn per table; the map draws every node the filters keep.
const TABLE_ROWS = 500;

const state = { filters: [], nodes: [], held: 0, selected: null, routes: [], nodesQuery: null, nodesTimer: null };

// ---- small helpers

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? "" : String(c)));
  return e;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// Binary units, as planetctl prints sizes: 8G, 512M, 1.5T.
function size(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "K", "M", "G", "T", "P"];
  let v = Number(bytes), i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 || v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1)) + units[i];
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  let s = Math.floor(Number(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d > 0) return `${d}d${String(h).padStart(2, "0")}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

function shortKey(key) { return key ? key.slice(0, 16) + "…" : "—"; }

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON: reported below */ }
  if (!r.ok || body === null) {
    const err = new Error(body && body.error ? body.error.message : `${path}: HTTP ${r.status}`);
    err.detail = body && body.error;
    throw err;
  }
  return body;
}

// A table body from rows: each column is [class, value(row)]; a row gets data-address when it has one.
function fillTable(id, rows, columns, options) {
  const opts = options || {};
  const body = $(id).tBodies[0];
  const out = [];
  for (const row of rows.slice(0, TABLE_ROWS)) {
    const tr = el("tr", { "data-address": row.address || null, "data-key": row.publicKey || null });
    for (const [cls, value] of columns) {
      const v = value(row);
      tr.append(el("td", { class: cls || null }, v));
    }
    if (opts.onClick) tr.addEventListener("click", () => opts.onClick(row));
    if (opts.selected && opts.selected(row)) tr.classList.add("selected");
    out.push(tr);
  }
  if (rows.length === 0) out.push(el("tr", { class: "empty" }, el("td", { colSpan: columns.length }, opts.empty || "none")));
  body.replaceChildren(...out);
}

function problem(id, message) {
  const p = $(id + "-problem");
  p.hidden = !message;
  p.textContent = message || "";
}

// ---- this node, peers, sessions, routes, VMs

function showSelf(s) {
  const rows = [
    ["address", s.address], ["subnet", s.subnet], ["public key", s.publicKey], ["version", s.version],
    ["uptime", duration(s.uptimeSeconds)],
    ["public endpoints", (s.publicEndpoints || []).join(", ") || "none known"],
    ["NAT mapping", s.natMapping || "—"],
    ["local endpoints", (s.localEndpoints || []).join(", ") || "—"],
  ];
  $("self").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  document.title = `Planetary explorer — ${s.address}`;
}

function showPeers(reply) {
  const peers = reply.peers;
  $("peers-count").textContent = `(${peers.filter(p => p.state === "up").length} up of ${peers.length})`;
  fillTable("peers", peers, [
    ["address", p => p.address || "—"],
    ["mono", p => p.endpoint || p.uri || "—"],
    ["", p => p.state],
    ["num", p => p.rttMs === null || p.rttMs === undefined ? "—" : p.rttMs.toFixed(2) + " ms"],
    ["num", p => size(p.rxBytes)],
    ["num", p => size(p.txBytes)],
    ["", p => p.cipher || "—"],
    ["", p => p.punched ? "punched" : "direct"],
    ["", p => p.inbound ? "inbound" : "outbound"],
    ["num", p => duration(p.uptimeSeconds)],
  ], { empty: "no peers" });
}

function showSessions(reply) {
  const sessions = reply.sessions;
  $("sessions-count").textContent = `(${sessions.length})`;
  fillTable("sessions", sessions, [
    ["address", s => s.address],
    ["", s => s.path || "—"],
    ["key", s => shortKey(s.nextHop)],
    ["", s => s.cipher || "—"],
    ["num", s => size(s.rxBytes)],
    ["num", s => size(s.txBytes)],
    ["num", s => duration(s.uptimeSeconds)],
  ], { empty: "no sessions" });
}

function showRoutes() {
  const q = $("route-search").value.trim().toLowerCase();
  const all = state.routes;
  const kept = q ? all.filter(r => [r.address, r.prefix, r.publicKey, r.nextHop || ""].some(f => f.toLowerCase().includes(q))) : all;
  $("routes-count").textContent = q ? `(${kept.length} of ${all.length})` : `(${all.length})`;
  fillTable("routes", kept, [
    ["address", r => r.address],
    ["mono", r => r.prefix],
    ["key", r => r.nextHop ? shortKey(r.nextHop) : "unreachable"],
    ["num", r => r.metric],
    ["num", r => r.seqno],
  ], { empty: q ? "no route matches" : "no routes" });
}

function showVMs(reply) {
  const vms = reply.vms;
  $("vms-count").textContent = `(${vms.length})`;
  fillTable("vms", vms, [
    ["", v => v.name],
    ["address", v => v.address],
    ["", v => v.problem ? `${v.state}: ${v.problem}` : v.state],
    ["mono", v => v.interface + (v.netns ? ` (netns ${v.netns})` : "")],
    ["mono", v => v.policy.length ? v.policy.join(", ") : "nothing allowed in"],
    ["num", v => size(v.rxBytes)],
    ["num", v => size(v.txBytes)],
    ["num", v => v.refusedPackets],
  ], { empty: "no VMs" });
}

// ---- the capacity directory: form, table, map, details

// The filters in the address bar, by the names of `planetctl nodes find`.
function filtersFromLocation() {
  const given = new URLSearchParams(location.search);
  const out = {};
  for (const f of state.filters) if (given.has(f.name)) out[f.name] = given.get(f.name);
  return out;
}

function buildForm() {
  const form = $("filters");
  const given = filtersFromLocation();
  const fields = state.filters.map(f => {
    const title = `--${f.name}${f.placeholder ? " " + f.placeholder : ""}: ${f.help}`;
    let input;
    if (f.takes === "flag") {
      input = el("input", { type: "checkbox", name: f.name, title, checked: f.name in given && !["false", "0", "no"].includes(given[f.name]) });
      return el("label", { class: "flag", title }, input, f.name);
    }
    if (f.choices) {
      input = el("select", { name: f.name, title }, el("option", { value: "" }, "—"), ...f.choices.map(c => el("option", { value: c }, c)));
      input.value = given[f.name] || "";
    } else {
      input = el("input", { type: "text", name: f.name, title, placeholder: f.placeholder, value: given[f.name] || "" });
    }
    if (f.takes === "optional") {
      // `--gpu` alone means any GPU: a checkbox beside the vendor box says it is asked for.
      const on = el("input", { type: "checkbox", name: f.name + ":on", title, checked: f.name in given });
      return el("label", { title }, f.name, el("span", {}, on, input));
    }
    return el("label", { title }, f.name, input);
  });
  const buttons = el("span", { class: "buttons" },
    el("button", { type: "submit" }, "find"),
    el("button", { type: "button", id: "clear-filters" }, "clear"));
  form.replaceChildren(...fields, buttons);
  form.addEventListener("submit", e => { e.preventDefault(); applyFilters(); });
  form.addEventListener("change", () => applyFilters());
  $("clear-filters").addEventListener("click", () => { form.reset(); for (const i of form.querySelectorAll("input[type=text]")) i.value = ""; for (const s of form.querySelectorAll("select")) s.value = ""; applyFilters(); });
}

// The form as a query: `country=BE&free-mru=8G`, in the finder's order.
function formQuery() {
  const form = $("filters");
  const q = new URLSearchParams();
  for (const f of state.filters) {
    const input = form.elements[f.name];
    if (f.takes === "flag") { if (input.checked) q.append(f.name, "true"); continue; }
    if (f.takes === "optional") {
      const on = form.elements[f.name + ":on"];
      if (on.checked || input.value.trim()) q.append(f.name, input.value.trim());
      continue;
    }
    if (input.value.trim()) q.append(f.name, input.value.trim());
  }
  return q.toString();
}

function applyFilters() {
  const q = formQuery();
  history.replaceState(null, "", (q ? `?${q}` : location.pathname) + location.hash);
  refreshNodes();
}

async function refreshNodes() {
  const q = formQuery();
  clearTimeout(state.nodesTimer);
  try {
    const reply = await getJSON("/api/nodes" + (q ? `?${q}` : ""));
    if (q !== formQuery()) return;  // the form changed while we waited: a newer answer comes
    state.nodes = reply.nodes;
    state.held = reply.held;
    state.nodesQuery = q;
    problem("nodes", null);
    showNodes();
  } catch (e) {
    // A refused filter names its argument; the form names it as planetctl does.
    const f = e.detail && e.detail.argument && state.filters.find(f => f.argument === e.detail.argument || f.name === e.detail.argument);
    problem("nodes", f ? `--${f.name}: ${e.message.replace(/^[^:]*: /, "")}` : e.message);
  } finally {
    // One timer however many asks overlapped (the form can change while one is out).
    clearTimeout(state.nodesTimer);
    state.nodesTimer = setTimeout(refreshNodes, NODES_REFRESH_MS);
  }
  return state.nodesQuery;
}

function showNodes() {
  const nodes = state.nodes;
  $("nodes-count").textContent = `(${nodes.length} of ${state.held} held)`;
  $("nodes").dataset.query = state.nodesQuery || "";
  const more = $("nodes-more");
  more.hidden = nodes.length <= TABLE_ROWS;
  more.textContent = `The table shows the first ${TABLE_ROWS} of ${nodes.length}; the map shows them all. Narrow them with the filters.`;
  fillTable("nodes", nodes, [
    ["address", n => n.address],
    ["", n => n.country || "—"],
    ["", n => n.city || "—"],
    ["", n => n.farmName ? `${n.farmName} (${n.farmId})` : (n.farmId || "—")],
    ["num", n => size(n.free.mru)],
    ["num", n => size(n.free.sru)],
    ["num", n => size(n.free.hru)],
    ["num", n => n.total.cru],
    ["", n => n.gpus.length ? n.gpus.map(g => g.vendor).join(", ") : "—"],
    ["num", n => n.metric === null || n.metric === undefined ? "—" : n.metric],
    ["num", n => n.distanceKm === null || n.distanceKm === undefined ? "—" : n.distanceKm + " km"],
    ["num", n => duration(n.ageSeconds)],
  ], { onClick: select, selected: n => n.publicKey === state.selected, empty: "no node matches" });
  drawDots();
  const chosen = nodes.find(n => n.publicKey === state.selected);
  if (chosen) showDetails(chosen);
}

// Free memory to a colour: red (none) through yellow to green (64 GiB and more), on a log scale.
const FULL_GREEN = 64 * 2 ** 30;
function memoryColour(bytes) {
  const t = Math.min(1, Math.log2(1 + Number(bytes) / 2 ** 30) / Math.log2(1 + FULL_GREEN / 2 ** 30));
  return `hsl(${Math.round(t * 120)} 75% ${Math.round(48 - t * 10)}%)`;
}

function drawDots() {
  const g = $("map-dots");
  const dots = [];
  let unplaced = 0;
  // The selected node last, so it is drawn on top.
  const ordered = state.nodes.filter(n => n.publicKey !== state.selected).concat(state.nodes.filter(n => n.publicKey === state.selected));
  for (const n of ordered) {
    if (n.latitude === null || n.longitude === null || n.latitude === undefined || n.longitude === undefined) { unplaced++; continue; }
    const c = svg("circle", { cx: n.longitude.toFixed(3), cy: (-n.latitude).toFixed(3), r: n.publicKey === state.selected ? 2.6 : 1.8,
                              fill: memoryColour(n.free.mru), "data-address": n.address });
    if (n.publicKey === state.selected) c.classList.add("selected");
    const t = svg("title", {});
    t.textContent = `${n.address}\n${n.city || "?"}, ${n.country || "?"} — ${size(n.free.mru)} free memory`;
    c.append(t);
    c.addEventListener("click", () => select(n));
    dots.push(c);
  }
  g.replaceChildren(...dots);
  $("map-note").textContent = unplaced ? `${unplaced} of ${state.nodes.length} announce no coordinates (not on the map)` : "";
}

// The selected node is kept in the address bar (`#ADDRESS`), so a link opens its details.
function select(node) {
  state.selected = node.publicKey;
  history.replaceState(null, "", location.pathname + location.search + "#" + node.address);
  showNodes();
  showDetails(node);
}

function selectFromLocation() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  const node = wanted && state.nodes.find(n => n.address === wanted || n.publicKey === wanted);
  if (node && node.publicKey !== state.selected) select(node);
}

function showDetails(n) {
  $("details").hidden = false;
  $("details-address").textContent = n.address;
  $("copy-result").textContent = "";
  const res = r => `${r.cru} CPUs, ${size(r.mru)} memory, ${size(r.sru)} SSD, ${size(r.hru)} HDD`;
  const rows = [
    ["public key", n.publicKey],
    ["location", [n.city, n.country].filter(Boolean).join(", ") || "—"],
    ["coordinates", n.latitude === null || n.latitude === undefined ? "—" : `${n.latitude}, ${n.longitude}`],
    ["farm", n.farmName ? `${n.farmName} (${n.farmId})` : String(n.farmId)],
    ["free", res(n.free)],
    ["used", res(n.used)],
    ["total", res(n.total)],
    ["GPUs", n.gpus.length ? n.gpus.map(g => `${g.vendor} ${g.name}`.trim()).join("; ") : "none"],
    ["public IP", [n.publicIPv4 ? "IPv4" : "", n.publicIPv6 ? "IPv6" : ""].filter(Boolean).join(", ") || "none"],
    ["tags", n.tags.join(", ") || "none"],
    ["route metric", n.metric === null || n.metric === undefined ? "no route" : n.metric],
    ["version", n.version || "—"],
    ["uptime", duration(n.uptimeSeconds)],
    ["record", `seqno ${n.seqno}, ${duration(n.ageSeconds)} old, expires in ${duration(n.expiresInSeconds)}`],
  ];
  $("details-fields").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

async function copyAddress() {
  const text = $("details-address").textContent;
  let done = false;
  try { await navigator.clipboard.writeText(text); done = true; } catch (e) { /* not a secure context: the fallback below */ }
  if (!done) {
    const range = document.createRange();
    range.selectNodeContents($("details-address"));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
  }
  $("copy-result").textContent = done ? "copied" : "selected: press Ctrl-C";
}

// ---- the map's background: an equirectangular graticule and a coarse, hand-drawn coastline
// (a few points a continent, for orientation only; the page loads nothing from elsewhere).

const LAND = [
  [[-168,66],[-162,70],[-140,70],[-125,71],[-95,72],[-80,73],[-62,66],[-55,52],[-66,45],[-70,42],[-76,35],[-81,31],[-80,25],[-83,29],[-90,30],[-97,27],[-97,22],[-95,19],[-91,19],[-87,21],[-88,16],[-83,15],[-83,10],[-79,9],[-77,8],[-80,7],[-86,11],[-92,14],[-97,16],[-105,20],[-110,23],[-115,30],[-117,33],[-121,37],[-124,42],[-124,48],[-131,55],[-140,60],[-152,59],[-160,58],[-165,62]],
  [[-52,60],[-42,60],[-22,70],[-18,78],[-30,83],[-60,82],[-72,78],[-55,70]],
  [[-77,8],[-72,12],[-62,10],[-52,5],[-35,-5],[-39,-13],[-41,-22],[-48,-26],[-58,-35],[-65,-41],[-68,-52],[-72,-53],[-75,-47],[-72,-30],[-71,-18],[-76,-14],[-81,-5],[-80,1],[-78,7]],
  [[-10,36],[-9,43],[-2,44],[-4,48],[2,51],[8,54],[10,57],[5,62],[14,68],[25,71],[40,68],[60,70],[80,73],[100,77],[140,72],[170,70],[180,68],[178,62],[162,58],[156,51],[140,53],[135,43],[128,38],[126,35],[121,31],[122,25],[110,21],[108,15],[105,9],[100,13],[103,1],[98,8],[98,16],[92,22],[80,15],[77,8],[73,20],[67,25],[57,25],[56,27],[50,30],[48,29],[52,24],[56,22],[59,22],[52,16],[43,12],[39,20],[35,28],[33,31],[35,36],[27,37],[26,40],[23,36],[21,40],[19,42],[13,45],[16,38],[12,38],[10,44],[3,43],[-1,37],[-5,36]],
  [[-17,21],[-16,12],[-8,5],[5,6],[9,4],[9,-1],[13,-6],[12,-17],[15,-28],[18,-34],[22,-34],[27,-33],[33,-26],[35,-18],[40,-15],[40,-7],[43,-1],[51,11],[44,11],[39,16],[35,28],[33,31],[20,31],[10,37],[-6,36],[-10,30],[-13,28]],
  [[114,-22],[122,-18],[130,-12],[137,-12],[141,-12],[146,-18],[153,-25],[150,-37],[141,-38],[135,-34],[129,-32],[115,-34]],
  [[-5,50],[1,51],[2,53],[-2,56],[-2,58],[-6,58],[-5,55],[-3,54],[-5,52]],
  [[-24,64],[-22,66],[-14,66],[-13,65],[-18,63]],
  [[130,31],[135,34],[140,36],[142,40],[141,45],[145,44],[140,41],[136,37],[131,34]],
  [[109,1],[117,7],[119,1],[116,-4],[110,-3]],
  [[95,5],[106,-6],[102,-4]],
  [[131,-1],[141,-3],[150,-10],[141,-9],[134,-4]],
  [[44,-25],[47,-25],[50,-15],[49,-12],[44,-17]],
  [[172,-34],[178,-38],[174,-41],[170,-46],[167,-46],[172,-41]],
  [[-180,-90],[180,-90],[180,-75],[90,-66],[0,-70],[-60,-64],[-100,-72],[-180,-78]],
];

function drawMapBackground() {
  $("map-land").replaceChildren(...LAND.map(poly => svg("polygon", { class: "land", points: poly.map(([lon, lat]) => `${lon},${-lat}`).join(" ") })));
  const lines = [];
  for (let lon = -150; lon <= 150; lon += 30) lines.push(svg("line", { class: lon === 0 ? "grid major" : "grid", x1: lon, y1: -90, x2: lon, y2: 90 }));
  for (let lat = -60; lat <= 60; lat += 30) lines.push(svg("line", { class: lat === 0 ? "grid major" : "grid", x1: -180, y1: -lat, x2: 180, y2: -lat }));
  $("map-grid").replaceChildren(...lines);
  $("legend-scale").textContent = `0 → ${size(FULL_GREEN)}+`;
}

// ---- refreshing

async function refresh() {
  const sections = [
    ["self", "/api/self", showSelf],
    ["peers", "/api/peers", showPeers],
    ["sessions", "/api/sessions", showSessions],
    ["routes", "/api/routes", r => { state.routes = r.routes; showRoutes(); }],
    ["vms", "/api/vms", showVMs],
  ];
  const results = await Promise.allSettled(sections.map(([, path]) => getJSON(path)));
  let failed = 0;
  results.forEach((r, i) => {
    const [name, , show] = sections[i];
    if (r.status === "fulfilled") {
      show(r.value);
      if (name !== "self") problem(name, null);
    } else {
      failed++;
      if (name !== "self") problem(name, r.reason.message);
    }
  });
  const status = $("status");
  // The VMs' refusal (no TUN) is the node's answer, not a failure to reach it.
  const unreachable = results.slice(0, 4).some(r => r.status === "rejected");
  status.textContent = unreachable ? `the node did not answer (${new Date().toLocaleTimeString()})` : `updated ${new Date().toLocaleTimeString()}`;
  status.classList.toggle("bad", unreachable);
  return failed;
}

async function start() {
  drawMapBackground();
  $("route-search").addEventListener("input", showRoutes);
  $("copy-address").addEventListener("click", copyAddress);
  try {
    state.filters = (await getJSON("/api/filters")).filters;
  } catch (e) {
    problem("nodes", "cannot read the finder's filters: " + e.message);
  }
  buildForm();
  await Promise.all([refresh(), refreshNodes()]);
  selectFromLocation();
  window.addEventListener("hashchange", selectFromLocation);
  // Ready: every section has been asked once (a test reads the page from here on).
  document.body.dataset.state = "ready";
  setInterval(refresh, REFRESH_MS);
}

start();
"""#
}
