#!/usr/bin/env python3
"""Helpers for Tools/bench: reads iperf3 JSON and turns the raw samples the script records
into the results table, the ratios and the JSON file.

  report.py iperf-tcp FILE        prints "BITS_PER_SECOND BYTES" (receiver side)
  report.py iperf-udp FILE        prints "LOST_PERCENT RECEIVED_BITS_PER_SECOND" (receiver side)
  report.py summarize SAMPLES META [--json OUT]

SAMPLES holds one JSON object a line: {"system": S, "key": K, "values": [...]} or
{"system": S, "key": "status", "value": "ok" | "failed: ..."}. META is a JSON object with the
machine, the date and the options.
"""
import json
import math
import statistics
import sys

# Display order and human names of the systems.
SYSTEMS = [
    ("raw", "raw veth"),
    ("planetary", "Planetary"),
    ("wireguard", "wireguard-go"),
    ("yggdrasil", "yggdrasil"),
    ("yggdrasil-1420", "yggdrasil 1420"),
    ("yggdrasil05", "yggdrasil 0.5.12"),
    ("planetary-ygg", "planetd ygg-wire"),
    ("planetary-ygg05", "planetd-ygg0.5"),
]

# The ratio columns: (numerator, denominator, column heading). Planetary on its own wire
# against the others; planetd on Yggdrasil's wire (tcp://) against yggdrasil 0.5.12's own pair,
# both planetd (planetary-ygg) and planetd talking to a real yggdrasil (planetary-ygg05).
# A metric is set against the same metric of the other system, except where a fifth element
# maps it to another one: planetary-ygg05's second relay (planetd - yggdrasil 0.5.12 - planetd)
# against the yggdrasil 0.5.12 relay, like its first (yggdrasil 0.5.12 - planetd - yggdrasil).
RATIOS = [
    ("planetary", "yggdrasil", "P/ygg"),
    ("planetary", "wireguard", "P/wg"),
    ("planetary-ygg", "yggdrasil05", "Pygg/ygg05"),
    ("planetary-ygg05", "yggdrasil05", "Pmix/ygg05",
     {"relay_ygg_mid_tcp1_gbps_median": "relay_tcp1_gbps_median",
      "relay_ygg_mid_tcp1_gbps_min": "relay_tcp1_gbps_min",
      "relay_ygg_mid_tcp1_gbps_max": "relay_tcp1_gbps_max"}),
    ("planetary-ygg", "yggdrasil", "Pygg/ygg047"),
]

# (metric, unit, better, description). "better" is "higher" or "lower"; the ratios are always
# Planetary / other, so a ratio above 1 is good for "higher" metrics and bad for "lower" ones.
METRICS = [
    ("tcp1_gbps_median", "Gbit/s", "higher", "TCP 1 stream, median"),
    ("tcp1_gbps_min", "Gbit/s", "higher", "TCP 1 stream, min"),
    ("tcp1_gbps_max", "Gbit/s", "higher", "TCP 1 stream, max"),
    ("raw_ref_tcp1_gbps_median", "Gbit/s", "higher", "raw veth beside TCP 1 runs, median"),
    ("tcp1_vs_raw_pct", "%", "higher", "TCP 1 / raw veth beside it (median of rounds)"),
    ("tcp4_gbps_median", "Gbit/s", "higher", "TCP 4 streams, median"),
    ("tcp4_gbps_min", "Gbit/s", "higher", "TCP 4 streams, min"),
    ("tcp4_gbps_max", "Gbit/s", "higher", "TCP 4 streams, max"),
    ("udp_loss_pct", "%", "lower", "UDP 1300 B loss"),
    ("udp_recv_gbps", "Gbit/s", "higher", "UDP 1300 B received"),
    ("udp_high_loss_pct", "%", "lower", "UDP 1300 B loss, high rate"),
    ("udp_high_recv_gbps", "Gbit/s", "higher", "UDP 1300 B received, high rate"),
    ("rtt_avg_ms", "ms", "lower", "ping RTT avg"),
    ("rtt_p50_ms", "ms", "lower", "ping RTT p50"),
    ("rtt_p99_ms", "ms", "lower", "ping RTT p99"),
    ("ping_loss_pct", "%", "lower", "ping loss"),
    ("cpu_s_per_gb", "CPU s/GB", "lower", "daemon CPU per GB (TCP)"),
    ("relay_tcp1_gbps_median", "Gbit/s", "higher", "relay a-r-b TCP 1, median"),
    ("relay_tcp1_gbps_min", "Gbit/s", "higher", "relay a-r-b TCP 1, min"),
    ("relay_tcp1_gbps_max", "Gbit/s", "higher", "relay a-r-b TCP 1, max"),
    ("relay_ref_tcp1_gbps_median", "Gbit/s", "higher", "one hop beside the relay runs, median"),
    ("relay_vs_one_hop_pct", "%", "higher", "relay / one hop beside it (median of rounds)"),
    ("relay_cpu_s_per_gb", "CPU s/GB", "lower", "relay r's CPU per GB relayed"),
    # planetary-ygg05 only: planetd a - yggdrasil 0.5.12 r - planetd b (its "relay" rows are
    # yggdrasil 0.5.12 a - planetd r - yggdrasil 0.5.12 b).
    ("relay_ygg_mid_tcp1_gbps_median", "Gbit/s", "higher", "relay via yggdrasil r TCP 1, median"),
    ("relay_ygg_mid_tcp1_gbps_min", "Gbit/s", "higher", "relay via yggdrasil r TCP 1, min"),
    ("relay_ygg_mid_tcp1_gbps_max", "Gbit/s", "higher", "relay via yggdrasil r TCP 1, max"),
    ("relay_ygg_mid_ref_tcp1_gbps_median", "Gbit/s", "higher", "one hop beside those runs, median"),
    ("relay_ygg_mid_vs_one_hop_pct", "%", "higher", "relay via yggdrasil r / one hop (median of rounds)"),
    ("relay_ygg_mid_cpu_s_per_gb", "CPU s/GB", "lower", "yggdrasil r's CPU per GB relayed"),
    ("vm_tcp1_gbps_median", "Gbit/s", "higher", "node to VM behind b, TCP 1, median"),
    ("vm_tcp1_gbps_min", "Gbit/s", "higher", "node to VM behind b, TCP 1, min"),
    ("vm_tcp1_gbps_max", "Gbit/s", "higher", "node to VM behind b, TCP 1, max"),
    ("vm_ref_tcp1_gbps_median", "Gbit/s", "higher", "node to node beside the VM runs, median"),
    ("vm_vs_node_pct", "%", "higher", "node to VM / node to node beside it (median of rounds)"),
    ("idle_cpu_pct", "% CPU", "lower", "idle CPU, node with 1 peer"),
    ("idle_rss_mb", "MB", "lower", "idle RSS, node with 1 peer"),
    ("rss_fresh_mb", "MB", "lower", "RSS before any traffic"),
    ("rss_peak_mb", "MB", "lower", "peak RSS (VmHWM)"),
]


def iperf_tcp(path):
    with open(path) as f:
        d = json.load(f)
    if "error" in d and not d.get("end", {}).get("sum_received"):
        print("error", d["error"])
        return
    r = d["end"]["sum_received"]
    print(r["bits_per_second"], r["bytes"])


def iperf_udp(path):
    with open(path) as f:
        d = json.load(f)
    end = d.get("end", {})
    # iperf3 3.12 puts the server's (receiver's) counts into end.sum for the client's UDP
    # report; newer versions also have sum_received. Prefer the receiver's view.
    r = end.get("sum_received") or end.get("sum")
    if not r:
        print("error", d.get("error", "no result"))
        return
    lost = r.get("lost_percent")
    if lost is None and r.get("packets"):
        lost = 100.0 * r.get("lost_packets", 0) / r["packets"]
    print(lost, r.get("bits_per_second", 0))


def percentile(values, p):
    """Nearest-rank percentile: the value below which p% of the samples lie."""
    s = sorted(values)
    k = max(0, math.ceil(p / 100.0 * len(s)) - 1)
    return s[k]


def derive(samples):
    """Turns one system's raw samples into its metrics."""
    m = {}
    for name in ("tcp1", "tcp4", "relay_tcp1", "relay_ygg_mid_tcp1", "vm_tcp1"):
        v = samples.get(name)
        if v:
            m[name + "_gbps_min"] = min(v)
            m[name + "_gbps_median"] = statistics.median(v)
            m[name + "_gbps_max"] = max(v)
    if samples.get("udp_loss"):
        m["udp_loss_pct"] = statistics.median(samples["udp_loss"])
    if samples.get("udp_recv"):
        m["udp_recv_gbps"] = statistics.median(samples["udp_recv"])
    if samples.get("udp_high_loss"):
        m["udp_high_loss_pct"] = statistics.median(samples["udp_high_loss"])
    if samples.get("udp_high_recv"):
        m["udp_high_recv_gbps"] = statistics.median(samples["udp_high_recv"])
    rtt = samples.get("rtt")
    if rtt:
        m["rtt_avg_ms"] = sum(rtt) / len(rtt)
        m["rtt_p50_ms"] = percentile(rtt, 50)
        m["rtt_p99_ms"] = percentile(rtt, 99)
    if samples.get("ping_loss"):
        m["ping_loss_pct"] = samples["ping_loss"][0]
    for key in ("cpu_s_per_gb", "relay_cpu_s_per_gb", "relay_ygg_mid_cpu_s_per_gb"):
        if samples.get(key):
            m[key] = samples[key][0]
    # A row against its reference (raw veth, one hop): from the rounds run side by side
    # (reference, then the row), the median of the rounds' ratios; relay and VM runs without
    # such rounds are set against the first tcp1 runs, made minutes earlier.
    for key, ref, ratio in (("tcp1", "raw_ref_tcp1", "tcp1_vs_raw_pct"),
                            ("relay_tcp1", "relay_ref_tcp1", "relay_vs_one_hop_pct"),
                            ("relay_ygg_mid_tcp1", "relay_ygg_mid_ref_tcp1", "relay_ygg_mid_vs_one_hop_pct"),
                            ("vm_tcp1", "vm_ref_tcp1", "vm_vs_node_pct")):
        paths, refs = samples.get(key), samples.get(ref)
        if paths and refs and len(paths) == len(refs):
            m[ref + "_gbps_median"] = statistics.median(refs)
            m[ratio] = 100.0 * statistics.median([p / r for p, r in zip(paths, refs) if r > 0])
        elif paths and key != "tcp1" and m.get("tcp1_gbps_median"):
            m[ratio] = 100.0 * statistics.median(paths) / m["tcp1_gbps_median"]
    if samples.get("idle_cpu_pct"):
        m["idle_cpu_pct"] = samples["idle_cpu_pct"][0]
    for key in ("idle_rss_mb", "rss_fresh_mb", "rss_peak_mb"):
        if samples.get(key):
            m[key] = samples[key][0]
    return m


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 0.1:
        return "%.2f" % v
    return "%.3f" % v


def summarize(samples_path, meta_path, json_out):
    with open(meta_path) as f:
        meta = json.load(f)
    raw = {}
    status = {}
    notes = {}
    with open(samples_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            s = o["system"]
            if o["key"] == "status":
                status[s] = o["value"]
            elif o["key"] == "note":
                notes.setdefault(s, []).append(o["value"])
            else:
                raw.setdefault(s, {}).setdefault(o["key"], []).extend(o["values"])
    ran = [s for s, _ in SYSTEMS if s in status or s in raw]
    systems = {}
    for s in ran:
        systems[s] = {
            "status": status.get(s, "ok"),
            "metrics": derive(raw.get(s, {})),
            "samples": raw.get(s, {}),
        }
        if s in notes:
            systems[s]["notes"] = notes[s]
    ratios = {}
    headings = {}
    for num, den, heading, *against in RATIOS:
        against = against[0] if against else {}
        p = systems.get(num, {}).get("metrics", {})
        o = systems.get(den, {}).get("metrics", {})
        r = {}
        for key, _, _, _ in METRICS:
            okey = against.get(key, key)
            if key in p and okey in o and o[okey]:
                r[key] = p[key] / o[okey]
        if r:
            ratios[num + "/" + den] = r
            headings[num + "/" + den] = heading

    names = dict(SYSTEMS)
    cols = [names[s] for s in ran]
    ratio_cols = [n + "/" + d for n, d, *_ in RATIOS if n + "/" + d in ratios]
    header = ["metric", "unit"] + cols + [headings[k] for k in ratio_cols]
    rows = []
    rows.append(["status", ""] + [systems[s]["status"] for s in ran] + ["" for _ in ratio_cols])
    for key, unit, better, desc in METRICS:
        vals = [systems[s]["metrics"].get(key) for s in ran]
        if all(v is None for v in vals):
            continue
        rs = [ratios[k].get(key) for k in ratio_cols]
        rows.append([desc, unit] + [fmt(v) for v in vals] + [("%.2fx" % r) if r is not None else "-" for r in rs])
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    out = []
    out.append("| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(header)) + " |")
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) + " |")
    print("\n".join(out))
    m = meta.get("machine", {})
    print("\nmachine: %s, %s cores, kernel %s; %s" % (m.get("cpu"), m.get("nproc"), m.get("kernel"), meta.get("date")))
    o = meta.get("options", {})
    if o.get("udp_rate"):
        print("UDP offered at %s; high rate %s" % (o.get("udp_rate"), o.get("udp_rate_high", "not run")))
    print("P/ygg and P/wg are Planetary divided by yggdrasil 0.4.7 (default MTU) and by wireguard-go;")
    print("Pygg/ygg05 is planetd-planetd over tcp:// (Yggdrasil 0.5 wire) divided by the yggdrasil 0.5.12")
    print("pair, Pmix/ygg05 planetd-yggdrasil 0.5.12 divided by that pair, Pygg/ygg047 by yggdrasil 0.4.7;")
    print("for throughput higher is better, for loss, RTT, CPU and RSS lower is better.")
    if any(k.startswith("relay") for s in ran if s != "planetary" for k in systems[s]["metrics"]):
        print("Relays a-r-b over tcp:// only: yggdrasil 0.5.12 is three yggdrasil 0.5.12, planetd ygg-wire three")
        print("planetd, planetd-ygg0.5 yggdrasil 0.5.12 - planetd - yggdrasil 0.5.12 ('relay') and planetd -")
        print("yggdrasil 0.5.12 - planetd ('relay via yggdrasil r'); their ratios are against the yggdrasil 0.5.12")
        print("relay, run minutes apart; 'relay / one hop' is against each column's own pair, side by side.")
    for s in ran:
        for n in systems[s].get("notes", []):
            print("note (%s): %s" % (names[s], n))

    if json_out:
        doc = dict(meta)
        doc["units"] = {k: u for k, u, _, _ in METRICS}
        doc["better"] = {k: b for k, _, b, _ in METRICS}
        doc["systems"] = systems
        doc["ratios"] = ratios
        with open(json_out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")


def main(argv):
    if len(argv) >= 3 and argv[1] == "iperf-tcp":
        iperf_tcp(argv[2])
    elif len(argv) >= 3 and argv[1] == "iperf-udp":
        iperf_udp(argv[2])
    elif len(argv) >= 4 and argv[1] == "summarize":
        out = None
        if len(argv) >= 6 and argv[4] == "--json":
            out = argv[5]
        summarize(argv[2], argv[3], out)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
