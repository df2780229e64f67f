#!/usr/bin/env python3
"""Markdown tables from the JSON lines of Benchmarks/server.sh (tokenmeter-loadgen output)."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {r.get("label"): r for r in rows if "label" in r}


def f(x, d=2):
    return "—" if x is None else f"{x:.{d}f}"


print("| streams | TTFT direct p50 / p99 | TTFT gateway p50 / p99 | **added p50 / p99** | gap direct p50 / p99 | gap gateway p50 / p99 | added gap p99 | failures (d/g) | streams/s (d/g) | CPU s gateway / upstream / loadgen (gateway run) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in (1, 50, 500):
    d, g = by.get(f"direct c={c}"), by.get(f"gateway c={c}")
    if not d or not g:
        continue
    dt, gt, dg, gg = d["ttft_ms"], g["ttft_ms"], d["gap_ms"], g["gap_ms"]
    p = g["processes"]
    print(f"| {c} | {f(dt['p50'])} / {f(dt['p99'])} | {f(gt['p50'])} / {f(gt['p99'])} | "
          f"**{f(gt['p50'] - dt['p50'])} / {f(gt['p99'] - dt['p99'])}** | {f(dg['p50'])} / {f(dg['p99'])} | "
          f"{f(gg['p50'])} / {f(gg['p99'])} | {f(gg['p99'] - dg['p99'])} | {d['failures']} / {g['failures']} | "
          f"{d['streams_per_s']:.0f} / {g['streams_per_s']:.0f} | "
          f"{p['gateway']['cpu_s']:.2f} / {p['upstream']['cpu_s']:.2f} / {p['loadgen']['cpu_s']:.2f} |")
print()
print("| run | requests ok / failed | seconds | streams/s | tokens | gateway CPU s | ms gateway CPU per 1,000 tokens | upstream CPU s | loadgen CPU s | gateway RSS MiB / FDs / threads |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if "label" not in r or r["label"].startswith("warmup"):
        continue
    p = r["processes"]
    gw = p["gateway"]
    per_k = gw["cpu_s"] * 1e6 / r["tokens"] if r["tokens"] and r["label"].startswith("gateway") else None
    print(f"| {r['label']} | {r['ok']} / {r['failures']} | {r['seconds']:.1f} | {r['streams_per_s']:.0f} | {r['tokens']} | "
          f"{gw['cpu_s']:.2f} | {f(per_k, 1) if per_k else '—'} | {p['upstream']['cpu_s']:.2f} | {p['loadgen']['cpu_s']:.2f} | "
          f"{gw['rss_kb'] / 1024:.0f} / {gw['fds']} / {gw['threads']} |")
for r in rows:
    if r.get("mode") == "hold":
        g = r["processes"]["gateway"]
        print()
        print(f"Idle open streams: {r['opened']} of {r['streams']} opened ({r['failed']} failed); gateway RSS "
              f"{g['rss_kb_before'] / 1024:.1f} MiB before, {g['rss_kb_holding'] / 1024:.1f} MiB holding: "
              f"**{g['rss_kb_per_stream']:.1f} KiB per idle open stream**; FDs {g['fds_before']} → {g['fds_holding']}, "
              f"threads {g['threads_holding']}.")
