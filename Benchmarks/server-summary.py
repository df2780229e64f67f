#!/usr/bin/env python3
"""Markdown tables from the JSON lines of Benchmarks/server.sh (tokenmeter-loadgen output)."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {r.get("label"): r for r in rows if "label" in r}
gateways = [g for g in ("baseline", "gateway", "postgres") if f"{g} c=50" in by or f"{g} c=1" in by]
# (the "nocache" gateway of BENCH_HISTORY has its own table below)
# BENCH_POSTGRES=1: the PostgreSQL server's CPU per phase of the "postgres" gateway, measured around the whole
# phase; its warm-up (one request per user) is taken out in proportion, as the load generator counts neither
# its tokens nor the gateway's CPU during it.
database = {r["database_cpu"]: r["cpu_s"] for r in rows if "database_cpu" in r}


def f(x, d=2):
    return "—" if x is None else f"{x:.{d}f}"


def cpu(r, name):
    p = r["processes"].get(name)
    return f"{p['cpu_s']:.2f}" if p else "—"


print("| streams | path | TTFT p50 / p99 ms | **added TTFT p50 / p99 ms** | gap p50 / p99 ms | added gap p99 ms | ok / failed | streams/s | CPU s: this gateway / upstream / loadgen |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for c in (1, 50, 200, 500, "500 in step"):
    d = by.get(f"direct c={c}")
    if not d:
        continue
    dt, dg = d["ttft_ms"], d["gap_ms"]
    print(f"| {c} | direct | {f(dt['p50'])} / {f(dt['p99'])} | | {f(dg['p50'])} / {f(dg['p99'])} | | {d['ok']} / {d['failures']} | "
          f"{d['streams_per_s']:.0f} | — / {cpu(d, 'upstream')} / {cpu(d, 'loadgen')} |")
    for g in gateways:
        r = by.get(f"{g} c={c}")
        if not r:
            continue
        gt, gg = r["ttft_ms"], r["gap_ms"]
        print(f"| {c} | {g} | {f(gt['p50'])} / {f(gt['p99'])} | **{f(gt['p50'] - dt['p50'])} / {f(gt['p99'] - dt['p99'])}** | "
              f"{f(gg['p50'])} / {f(gg['p99'])} | {f(gg['p99'] - dg['p99'])} | {r['ok']} / {r['failures']} | {r['streams_per_s']:.0f} | "
              f"{cpu(r, g)} / {cpu(r, 'upstream')} / {cpu(r, 'loadgen')} |")
if any(f"gateway history c={c}" in by for c in (1, 10)):
    # A long conversation re-sent with one new message: the gateway with its message-count cache and without.
    print()
    print("| streams | path | TTFT p50 / p99 ms | added TTFT p50 / p99 ms | gateway CPU ms per request |")
    print("|---:|---|---:|---:|---:|")
    for c in (1, 10):
        d = by.get(f"direct history c={c}")
        if not d:
            continue
        print(f"| {c} | direct | {f(d['ttft_ms']['p50'])} / {f(d['ttft_ms']['p99'])} | | |")
        for g in ("gateway", "nocache"):
            r = by.get(f"{g} history c={c}")
            if not r:
                continue
            per = r["processes"][g]["cpu_s"] * 1e3 / r["ok"] if r["ok"] else None
            print(f"| {c} | {g} | {f(r['ttft_ms']['p50'])} / {f(r['ttft_ms']['p99'])} | "
                  f"**{f(r['ttft_ms']['p50'] - d['ttft_ms']['p50'])}** / {f(r['ttft_ms']['p99'] - d['ttft_ms']['p99'])} | {f(per, 1)} |")
if any(f"gateway responses c={c}" in by for c in (1, 50)):
    # The Responses API beside chat completions: each path's added TTFT over the same upstream called directly
    # with the same API (a translated response is compared with the upstream's chat completions).
    print()
    print("| streams | path | added TTFT p50 / p99 ms | over chat's added p50 ms | gateway CPU ms per 1,000 tokens |")
    print("|---:|---|---:|---:|---:|")
    for c in (1, 50):
        chat, direct, direct_responses = by.get(f"gateway c={c}"), by.get(f"direct c={c}"), by.get(f"direct responses c={c}")
        if not (chat and direct):
            continue
        chat_added = chat["ttft_ms"]["p50"] - direct["ttft_ms"]["p50"]
        for label, base in ((f"gateway c={c}", direct), (f"gateway responses c={c}", direct),
                            (f"gateway responses-native c={c}", direct_responses)):
            r = by.get(label)
            if not (r and base):
                continue
            added = r["ttft_ms"]["p50"] - base["ttft_ms"]["p50"]
            per_k = r["processes"]["gateway"]["cpu_s"] * 1e6 / r["tokens"] if r["tokens"] else None
            path = {f"gateway c={c}": "chat completions", f"gateway responses c={c}": "responses, translated to chat"}.get(
                label, "responses, native")
            print(f"| {c} | {path} | {f(added)} / {f(r['ttft_ms']['p99'] - base['ttft_ms']['p99'])} | "
                  f"{'—' if label == f'gateway c={c}' else f(added - chat_added)} | {f(per_k, 1)} |")
print()
db_head = " database CPU s | ms database CPU per 1,000 tokens |" if database else ""
print("| run | ok / failed | seconds | streams/s | tokens | its gateway's CPU s | ms gateway CPU per 1,000 tokens | upstream CPU s | loadgen CPU s | gateway RSS MiB / FDs / threads after |" + db_head)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if database else ""))
for r in rows:
    if "label" not in r or r["label"].startswith("warmup"):
        continue
    g = r["label"].split(" ")[0]  # direct, baseline, gateway, postgres or nocache
    p = r["processes"]
    gw = p.get(g)
    per_k = gw["cpu_s"] * 1e6 / r["tokens"] if gw and r["tokens"] else None
    db = ""
    if database:
        d = database.get(r["label"])
        db_k = d * 1e6 / r["tokens"] * r["requests"] / (r["requests"] + r["concurrency"]) if d is not None and r["tokens"] else None
        db = f" {f(d)} | {f(db_k, 1)} |" if d is not None else " — | — |"
    print(f"| {r['label']} | {r['ok']} / {r['failures']} | {r['seconds']:.1f} | {r['streams_per_s']:.0f} | {r['tokens']} | "
          f"{f(gw['cpu_s']) if gw else '—'} | {f(per_k, 1) if per_k else '—'} | {p['upstream']['cpu_s']:.2f} | {p['loadgen']['cpu_s']:.2f} | "
          + (f"{gw['rss_kb'] / 1024:.0f} / {gw['fds']} / {gw['threads']} |" if gw else "— |") + db)
for r in rows:
    if r.get("mode") == "hold":
        # The gateway the streams went through is the one whose open FDs grew by about one per stream.
        name, g = max(((n, p) for n, p in r["processes"].items() if n in ("baseline", "gateway", "postgres")),
                      key=lambda item: item[1]["fds_holding"] - item[1]["fds_before"])
        print()
        print(f"Idle open streams through {name}: {r['opened']} of {r['streams']} opened ({r['failed']} failed); RSS "
              f"{g['rss_kb_before'] / 1024:.1f} MiB before, {g['rss_kb_holding'] / 1024:.1f} MiB holding: "
              f"**{g['rss_kb_per_stream']:.1f} KiB per idle open stream**; FDs {g['fds_before']} → {g['fds_holding']}, "
              f"threads {g['threads_holding']}.")
