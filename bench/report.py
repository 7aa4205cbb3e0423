#!/usr/bin/env python3
"""Collects bench/work/raw/*.json into results.json and a Markdown table per scenario,
with each target of issue 6 checked against the peers measured in the same run."""
import json
import os
import platform
import subprocess
import sys
import time

raw_dir, out_dir, scale = sys.argv[1], sys.argv[2], sys.argv[3]

runs = []
for name in sorted(os.listdir(raw_dir)):
    if name.endswith(".json") and name != "generate.json":
        with open(os.path.join(raw_dir, name)) as f:
            runs.append(json.load(f))
generate = {}
if os.path.exists(os.path.join(raw_dir, "generate.json")):
    with open(os.path.join(raw_dir, "generate.json")) as f:
        generate = json.load(f)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


results = {
    "scale": scale,
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "commit": git_commit(),
    "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
                "load_average_at_end": os.getloadavg()},
    "rtgen_new_us": generate.get("rtgen_new_us", []),
    "runs": runs,
}
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "results.json"), "w") as f:
    json.dump(results, f, indent=1, sort_keys=True)
    f.write("\n")


def of(scenario):
    return [r for r in runs if r.get("scenario") == scenario and not r.get("failed")]


def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


md = [f"# Benchmark results ({scale})", "",
      f"{results['date']}, commit {results['commit']}, {results['machine']['cpu']}, "
      f"{results['machine']['cores']} cores, load average at the end "
      f"{', '.join(f'{x:.1f}' for x in results['machine']['load_average_at_end'])}.", ""]
failed = [r for r in runs if r.get("failed")]
if failed:
    md += ["Failed runs: " + ", ".join(f"{r['scenario']} {r['server']} ({r.get('args', '')})"
                                         for r in failed), ""]

# S1
s1 = of("S1")
servers = list(dict.fromkeys(r["server"] for r in s1))
levels = sorted({r["connections"] for r in s1})
idle = {(r["server"], r["connections"]): r["rss_per_connection_kib"] for r in s1}
md += ["## S1 idle connections: server RSS per connection (KiB)", "",
       table(["connections"] + servers, [[n] + [idle.get((s, n)) for s in servers] for n in levels]), ""]

# S2
s2 = of("S2")
servers = list(dict.fromkeys(r["server"] for r in s2))
cases = sorted({(r["result"]["subscribers"], r["result"]["rate"]) for r in s2})
cell = {}
for r in s2:
    x = r["result"]
    cell[(r["server"], x["subscribers"], x["rate"])] = x


def lat(x, key):
    return x["latency_ms"][key] if x else None


def s2_cell(x):
    if not x:
        return None
    text = f"{x['latency_ms']['p50']:.1f} / {x['latency_ms']['p99']:.1f} / {x['latency_ms']['max']:.1f}"
    if x["missing"] or x["duplicates"] or x["disconnects"]:
        text += f" (missing {x['missing']}, dup {x['duplicates']}, disc {x['disconnects']})"
    if x["client_saturated"]:
        text += " (client saturated: void)"
    return text


md += ["## S2 broadcast latency, p50 / p99 / max (ms)", "",
       table(["subscribers", "msg/s"] + servers,
             [[n, rate] + [s2_cell(cell.get((s, n, rate))) for s in servers] for n, rate in cases]), "",
       "### Server CPU per delivery (µs) and client CPU (% of a core, busiest thread)", "",
       table(["subscribers", "msg/s"] + servers,
             [[n, rate] + [
                 (f"{x['server_cpu_us_per_delivery']:.2f} µs, client {x['client_busiest_thread_percent']:.0f}%"
                  if x and x.get("server_cpu_us_per_delivery") is not None else None)
                 for x in (cell.get((s, n, rate)) for s in servers)] for n, rate in cases]), ""]
s2d = of("S2d")
if s2d:
    rows = []
    for r in s2d:
        x = r["result"]
        default = cell.get((r["server"], x["subscribers"], x["rate"]))
        rows.append([r["server"], x["subscribers"], x["rate"], r.get("write_delay_ms"), s2_cell(x),
                     s2_cell(default), x.get("server_cpu_us_per_delivery"),
                     default.get("server_cpu_us_per_delivery") if default else None])
    md += ["### S2d: the same broadcast with `WRITE_DELAY_MS` (fewer writes, more latency)", "",
           table(["server", "subscribers", "msg/s", "WRITE_DELAY_MS", "p50 / p99 / max ms",
                  "without delay", "server µs/delivery", "without delay"], rows), ""]
s2m = of("S2m")
metrics_cost = {}
if s2m:
    rows = []
    for server in dict.fromkeys(r["server"] for r in s2m):
        cpu = {}
        for metrics in ["off", "on"]:
            xs = [r["result"] for r in s2m if r["server"] == server and r.get("metrics") == metrics]
            us = [x["server_cpu_us_per_delivery"] for x in xs if x.get("server_cpu_us_per_delivery") is not None]
            cpu[metrics] = sum(us) / len(us) if us else None
            rows.append([server, metrics, len(xs), ", ".join(f"{u:.2f}" for u in us), cpu[metrics],
                         "; ".join(s2_cell(x) for x in xs)])
        if cpu["off"] and cpu["on"] is not None:
            metrics_cost[server] = 100 * (cpu["on"] - cpu["off"]) / cpu["off"]
    md += ["### S2m: the cost of metrics (`METRICS_BIND` and a scrape every few seconds, runs interleaved)", "",
           table(["server", "metrics", "runs", "server µs/delivery, each run", "mean",
                  "p50 / p99 / max ms, each run"], rows), "",
           "Metrics cost, server CPU per delivery with metrics over without: " +
           (", ".join(f"{server} {cost:+.1f}%" for server, cost in metrics_cost.items()) or "-"), ""]
auth_cost = {}
s2a_idle, s2a = of("S2a-idle"), of("S2a")
if s2a_idle or s2a:
    rows = []
    figures = [("idle KiB/connection", s2a_idle, lambda r: r.get("rss_per_connection_kib")),
               ("CPU µs/delivery", s2a, lambda r: r["result"].get("server_cpu_us_per_delivery"))]
    for what, group, value in figures:
        for server in dict.fromkeys(r["server"] for r in group):
            mean = {}
            for auth in ["none", "jwt"]:
                xs = [value(r) for r in group if r["server"] == server and r.get("auth") == auth]
                xs = [x for x in xs if x is not None]
                mean[auth] = sum(xs) / len(xs) if xs else None
                lost = [r["result"] for r in group if r["server"] == server and r.get("auth") == auth
                        and "result" in r and (r["result"]["missing"] or r["result"]["disconnects"])]
                rows.append([server, what, auth, ", ".join(f"{x:.2f}" for x in xs), mean[auth],
                             f"{len(lost)} runs lost messages" if lost else "-"])
            if mean["none"] and mean["jwt"] is not None:
                auth_cost[(server, what)] = 100 * (mean["jwt"] - mean["none"]) / mean["none"]
    md += ["### S2a: the cost of authorization (`AUTH_MODE=jwt` with a token per connection against "
           "`AUTH_MODE=none`, runs interleaved)", "",
           table(["server", "figure", "AUTH_MODE", "each run", "mean", "loss"], rows), "",
           "Authorization cost, jwt over none: " +
           (", ".join(f"{server} {what} {cost:+.1f}%" for (server, what), cost in auth_cost.items())
            or "-"), ""]
polls = [r for r in s2 if r["result"].get("requests_per_sec")]
if polls:
    md += ["### Polling", "",
           table(["server", "subscribers", "msg/s", "requests/s", "304s", "p50 ms", "p99 ms"],
                 [[r["server"], r["result"]["subscribers"], r["result"]["rate"],
                   r["result"]["requests_per_sec"], r["result"]["not_modified"],
                   lat(r["result"], "p50"), lat(r["result"], "p99")] for r in polls]), ""]

# S5 and S3
s5 = of("S5")
ceiling = s5[0]["result"]["deliveries_per_sec"] if s5 and "result" in s5[0] else None
s3 = of("S3")
md += ["## S3 saturation: highest clean deliveries/s (p99 <= 100 ms, no loss)", ""]
rows = []
for r in s3:
    best = r.get("max_clean_deliveries_per_sec")
    rows.append([r["server"], r["subscribers"], best,
                 f"{100 * best / ceiling:.0f}%" if best and ceiling else None, r["stopped_by"],
                 (r["best"] or {}).get("server_cpu_us_per_delivery")])
md += [table(["server", "subscribers", "deliveries/s", "of raw ceiling", "stopped by",
              "server µs/delivery"], rows), ""]
if s5 and "result" in s5[0]:
    x = s5[0]["result"]
    md += [f"S5 raw-socket ceiling: {x['deliveries_per_sec']:.0f} deliveries/s of {x['message_bytes']} bytes "
           f"to {x['connections']} loopback sockets, {x['writer_cpu_us_per_delivery']:.2f} µs writer CPU "
           f"per delivery (one `write()` each).", ""]

# S4
s4 = of("S4")
if s4:
    rows = []
    for r in s4:
        x = r["result"]
        single_name = r["server"].replace("-redis", "-memory")
        if r["server"] == "socketio-redis":
            single_name = "node-ws"
        single = cell.get((single_name, x["subscribers"], x["rate"]))
        rows.append([r["server"], x["subscribers"], x["rate"], lat(x, "p50"), lat(x, "p99"),
                     x["missing"], x["duplicates"], single_name,
                     lat(x, "p50") - lat(single, "p50") if single else None,
                     x.get("server_cpu_us_per_delivery")])
    md += ["## S4 two instances through Redis", "",
           table(["server", "subscribers", "msg/s", "p50 ms", "p99 ms", "missing", "dup",
                  "single instance", "p50 - single (ms)", "server µs/delivery"], rows), ""]

# Targets
checks = []


def check(name, value, limit, ok):
    checks.append([name, value, limit, "met" if ok else "MISSED"] if value is not None
                  else [name, None, limit, "not measured"])


for transport, ours, peer in [("SSE", "sse-memory", "node-sse"), ("WebSocket", "websocket-memory", "node-ws")]:
    v, p = idle.get((ours, 10000)), idle.get((peer, 10000))
    limit = min(8.0, p) if p is not None else 8.0
    check(f"{transport} idle KiB/connection at 10k (<= 8 and <= {peer})", v, limit,
          v is not None and v <= limit)
v = idle.get(("long-polling-memory", 10000))
check("long polling idle KiB/held request at 10k (<= 8)", v, 8.0, v is not None and v <= 8.0)
for ours in ["sse-memory", "websocket-memory"]:
    x = cell.get((ours, 10000, 10))
    v = x.get("server_cpu_us_per_delivery") if x else None
    check(f"{ours} server CPU µs/delivery, 10k subs at 10 msg/s (<= 5)", v, 5.0, v is not None and v <= 5.0)
for r in s2d:
    x = r["result"]
    v = x.get("server_cpu_us_per_delivery")
    check(f"{r['server']} server CPU µs/delivery, {x['subscribers']} subs at {x['rate']} msg/s, "
          f"WRITE_DELAY_MS={r.get('write_delay_ms')} (<= 5; latency traded, see S2d)", v, 5.0,
          v is not None and v <= 5.0 and x["missing"] == 0)
for ours in ["sse-memory", "websocket-memory"]:
    for (n, rate, factor) in [(1000, 10, 0.5), (10000, 1, 0.75)]:
        x, p = cell.get((ours, n, rate)), cell.get(("node-ws", n, rate))
        v = lat(x, "p99")
        limit = factor * lat(p, "p99") if p else None
        clean = x is not None and not (x["missing"] or x["duplicates"] or x["disconnects"] or x["client_saturated"])
        check(f"{ours} p99 at {n} subs, {rate} msg/s (<= {factor} x node-ws)", v, limit,
              v is not None and limit is not None and clean and v <= limit)
s3_best = {r["server"]: r.get("max_clean_deliveries_per_sec") for r in s3}
for ours in ["sse-memory", "websocket-memory"]:
    v, p = s3_best.get(ours), s3_best.get("node-ws")
    check(f"{ours} saturation deliveries/s (>= 2 x node-ws)", v, 2 * p if p else None,
          v is not None and p is not None and v >= 2 * p)
for r in s4:
    if r["server"] == "socketio-redis":
        continue
    x = r["result"]
    single = cell.get((r["server"].replace("-redis", "-memory"), x["subscribers"], x["rate"]))
    if single:
        v = lat(x, "p50") - lat(single, "p50")
        check(f"{r['server']} p50 over single instance at {x['subscribers']} subs (<= 1 ms)", v, 1.0,
              v <= 1.0 and x["missing"] == 0)
for server, cost in metrics_cost.items():
    check(f"{server} metrics cost, CPU per delivery with over without, % (<= 5)", cost, 5.0, cost <= 5.0)
for (server, what), cost in auth_cost.items():
    check(f"{server} authorization cost, {what} with jwt over none, % (<= 10)", cost, 10.0, cost <= 10.0)
if results["rtgen_new_us"]:
    v = max(results["rtgen_new_us"]) / 1000
    check("rtgen new, slowest combination, ms (< 20, process start included)", v, 20.0, v < 20.0)
md += ["## Targets (issue 6)", "", table(["target", "measured", "limit", "verdict"], checks), ""]

with open(os.path.join(out_dir, "results.md"), "w") as f:
    f.write("\n".join(md))
