/// The explorer page's HTML, served at `/` (WebServer). Kept as a readable file of its own; the
/// script (ExplorerScript.swift) fills the tables, the form and the map from `/api/...`.
/// Element ids are what the script and Tests/Integration/test_explorer.sh look for.
enum ExplorerPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Planetary explorer</title>
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body data-state="loading">
<header>
  <h1>Planetary explorer</h1>
  <span id="status" class="status">loading…</span>
</header>
<main>
  <section id="self-section">
    <h2>This node</h2>
    <dl id="self"></dl>
  </section>

  <section id="peers-section">
    <h2>Peers <span class="count" id="peers-count"></span></h2>
    <p class="problem" id="peers-problem" hidden></p>
    <table id="peers">
      <thead><tr><th>address</th><th>endpoint</th><th>state</th><th>RTT</th><th>received</th><th>sent</th><th>cipher</th><th>link</th><th>direction</th><th>up for</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="sessions-section">
    <h2>Sessions <span class="count" id="sessions-count"></span></h2>
    <p class="problem" id="sessions-problem" hidden></p>
    <table id="sessions">
      <thead><tr><th>address</th><th>path</th><th>next hop</th><th>cipher</th><th>received</th><th>sent</th><th>up for</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="routes-section">
    <h2>Routes <span class="count" id="routes-count"></span></h2>
    <p class="problem" id="routes-problem" hidden></p>
    <input id="route-search" type="search" placeholder="search address, prefix, key or next hop" autocomplete="off">
    <table id="routes">
      <thead><tr><th>address</th><th>prefix</th><th>next hop</th><th>metric</th><th>seqno</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="vms-section">
    <h2>VMs <span class="count" id="vms-count"></span></h2>
    <p class="problem" id="vms-problem" hidden></p>
    <table id="vms">
      <thead><tr><th>name</th><th>address</th><th>state</th><th>interface</th><th>policy</th><th>received</th><th>sent</th><th>refused</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="nodes-section">
    <h2>Capacity directory <span class="count" id="nodes-count"></span></h2>
    <p class="hint">The filters and sorts of <code>planetctl nodes find</code>, by the same names; the address bar keeps them (<code>?country=BE&amp;free-mru=8G</code>).</p>
    <form id="filters" autocomplete="off"></form>
    <p class="problem" id="nodes-problem" hidden></p>
    <div class="directory">
      <figure class="map">
        <svg id="map" viewBox="-180 -90 360 180" preserveAspectRatio="xMidYMid meet" role="img" aria-label="nodes by announced location">
          <rect class="ocean" x="-180" y="-90" width="360" height="180"></rect>
          <g id="map-land"></g>
          <g id="map-grid"></g>
          <g id="map-dots"></g>
        </svg>
        <figcaption><span class="legend"><span>free memory</span><span class="ramp"></span><span id="legend-scale"></span></span> <span id="map-note"></span></figcaption>
      </figure>
      <aside id="details" hidden>
        <h3>Node</h3>
        <p class="address-line"><code id="details-address"></code> <button type="button" id="copy-address">copy</button> <span id="copy-result"></span></p>
        <dl id="details-fields"></dl>
      </aside>
    </div>
    <table id="nodes">
      <thead><tr><th>address</th><th>country</th><th>city</th><th>farm</th><th>free memory</th><th>free SSD</th><th>free HDD</th><th>CPUs</th><th>GPUs</th><th>metric</th><th>distance</th><th>age</th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="hint" id="nodes-more" hidden></p>
  </section>
</main>
</body>
</html>
"""#
}
