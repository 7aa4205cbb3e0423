#!/usr/bin/env python3
"""Prints the figures rtgen's sizing uses, from one benchmark run's results.json, in the
format of src/advisor/figures.rs (the block between its BEGIN and END markers).

`bench/run` calls this at its end; nothing is written. Updating the figures is a reviewed
commit: paste the printed block over the one in figures.rs together with the run's
results.json, run `cargo test --test sizing_figures --test advise_table` (the first checks the
block against results.json, the second shows which sizings the new figures change), and say
in the commit which run the figures come from.

Which measurement stands for what (the same choices are explained in figures.rs):
- memory per idle connection: S1 at 10,000 connections, `<strategy>-memory`. Short polling
  has no S1 case; its clients are counted at the held-poll (long-polling) figure.
- CPU per delivery: S2 at the largest subscriber count, the costlier of its rates (fewer
  messages per second batch less, so cost more per delivery).
- CPU per request, short polling: S2 short polling, server CPU over the requests served.
- the most connections one instance is planned for: the largest S1 case of a generated
  service (beyond it the figures would be extrapolated).
- through Redis: S4 at the largest subscriber count, CPU per delivery of `<strategy>-redis`.
"""
import json
import sys

STRATEGIES = [("ShortPolling", "short-polling"), ("LongPolling", "long-polling"),
              ("Sse", "sse"), ("Websocket", "websocket")]


def main(path):
    with open(path) as f:
        results = json.load(f)
    runs = [r for r in results["runs"] if not r.get("failed")]

    def idle_kib(server):
        cases = [r for r in runs if r["scenario"] == "S1" and r["server"] == server
                 and r["connections"] == 10000]
        return cases[0]["rss_per_connection_kib"] if cases else None

    def per_delivery(scenario, server):
        cases = [r["result"] for r in runs if r["scenario"] == scenario and r["server"] == server]
        if not cases:
            return None
        most = max(c["subscribers"] for c in cases)
        return max(c["server_cpu_us_per_delivery"] for c in cases if c["subscribers"] == most)

    def per_request(server):
        cases = [r["result"] for r in runs if r["scenario"] == "S2" and r["server"] == server]
        if not cases:
            return None
        c = max(cases, key=lambda c: c["subscribers"])
        return c["server_cpu_s"] * 1e6 / (c["requests_per_sec"] * c["window_s"])

    def number(value):
        return "None" if value is None else f"Some({value:.1f})"

    measured_connections = max((r["connections"] for r in runs if r["scenario"] == "S1"
                                and r["server"].endswith("-memory")), default=None)
    if measured_connections is None:
        print("sizing figures: this run has no S1 case; keep the figures in "
              "src/advisor/figures.rs", file=sys.stderr)
        return
    machine = results["machine"]
    lines = [
        "// BEGIN figures printed by bench/sizing_figures.py",
        "pub const MEASURED: Measured = Measured {",
        f'    commit: "{results["commit"]}",',
        f'    date: "{results["date"][:10]}",',
        f'    machine: "{machine["cpu"]}, {machine["cores"]} cores",',
        f'    scale: "{results["scale"]}",',
        f"    most_connections: {measured_connections:_},",
        "};",
        "",
        "pub const FIGURES: [Figures; 4] = [",
    ]
    for variant, name in STRATEGIES:
        memory = idle_kib(f"{name}-memory" if name != "short-polling" else "long-polling-memory")
        if name == "short-polling":
            cpu = per_request("short-polling-memory")
        else:
            cpu = per_delivery("S2", f"{name}-memory")
        if memory is None or cpu is None:
            print(f"sizing figures: this run has no S1 case at 10,000 connections or no S2 case "
                  f"for {name}; keep the figures in src/advisor/figures.rs (a full run has both)",
                  file=sys.stderr)
            return
        kind = "PerRequest" if name == "short-polling" else "PerDelivery"
        cpu = f"Cpu::{kind}({cpu:.1f})"
        lines += [
            "    Figures {",
            f"        strategy: Strategy::{variant},",
            f"        idle_kib_per_connection: {memory:.1f},",
            f"        cpu: {cpu},",
            f"        redis_cpu_us_per_delivery: {number(per_delivery('S4', f'{name}-redis'))},",
            "    },",
        ]
    lines += ["];", "// END figures printed by bench/sizing_figures.py"]
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/results.json")
