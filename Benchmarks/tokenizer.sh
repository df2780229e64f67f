#!/usr/bin/env bash
# Tokenizer benchmark: TokenMeter side by side with tiktoken and quicktok, in one run.
# Needs: pip install tiktoken quicktok-v1 (reference tools, not product dependencies).
# Prints the results, with machine and date, for BENCHMARKS.md ("Tokenizer").
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product tokenmeter >/dev/null   # as `make release`
swift build --package-path Benchmarks -c release --static-swift-stdlib --product tokenizer-bench >/dev/null
BIN=.build/release/tokenmeter
BENCH=Benchmarks/.build/release/tokenizer-bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CORPUS=Tests/TokenMeterTokenizerTests/Fixtures/corpus

echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "swift: $(swift --version 2>&1 | head -1)"
python3 -c 'import tiktoken, quicktok; print("tiktoken", tiktoken.__version__, "| quicktok", getattr(quicktok, "__version__", "?"))'

# A few MB of mixed real text: prose, ~45 languages, source code, emoji, digits, whitespace.
python3 - "$CORPUS" "$WORK/mixed.txt" "$WORK/english.txt" "$WORK/multilingual.txt" <<'PY'
import sys
d, mixed, english, multi = sys.argv[1:5]
read = lambda n: open(f"{d}/{n}", encoding="utf-8", newline="").read()
parts = ["prose_en.txt", "multilingual.txt", "code_swift.txt", "code_misc.txt", "emoji.txt", "digits.txt",
         "combining.txt", "whitespace.txt"]
t = "".join(read(n) for n in parts)
open(mixed, "w", newline="").write(t * (4_000_000 // len(t.encode()) + 1))
e = read("prose_en.txt") + read("code_swift.txt") + read("code_misc.txt")
open(english, "w", newline="").write(e * 2)
open(multi, "w", newline="").write(read("multilingual.txt") * 8)
PY
echo "corpus: $(wc -c < "$WORK/mixed.txt") bytes"

echo "== identical ids (tokenmeter encode vs tiktoken vs quicktok)"
for e in cl100k_base o200k_base; do
  $BIN encode -e $e "$WORK/mixed.txt" > "$WORK/tm_$e.ids"
done
python3 - "$WORK" <<'PY'
import sys, time
sys.path.insert(0, "../shared/tools")
import tiktoken_ref, quicktok
w = sys.argv[1]
t = open(f"{w}/mixed.txt", encoding="utf-8", newline="").read()
mb = len(t.encode()) / 1e6
def best(f, n=3):
    r = None
    for _ in range(n):
        s = time.perf_counter(); out = f(); d = time.perf_counter() - s
        r = d if r is None or d < r else r
    return out, r
for e in ["cl100k_base", "o200k_base"]:
    tk = tiktoken_ref.encoding(e)
    q = quicktok.get_encoding(e)
    ids, dt = best(lambda: tk.encode_ordinary(t))
    qids, dq = best(lambda: q.encode(t, disallowed_special=()))
    ours = [int(x) for x in open(f"{w}/tm_{e}.ids").read().split()]
    print(f"{e}: tokens {len(ids)}; tokenmeter identical: {ours == ids}; quicktok identical: {qids == ids}")
    print(f"{e}: tiktoken encode {mb/dt:.1f} MB/s | quicktok encode {mb/dq:.1f} MB/s (single thread, best of 3)")
PY

echo "== tokenmeter in-process throughput (single thread, best of 5)"
$BENCH throughput "$WORK/mixed.txt"

echo "== tokenmeter count, whole process, on the corpus (includes start-up)"
for e in cl100k_base o200k_base; do
  python3 - "$BIN" "$e" "$WORK/mixed.txt" <<'PY'
import subprocess, sys, time, os
b, e, f = sys.argv[1:4]
mb = os.path.getsize(f) / 1e6
ts = []
for _ in range(5):
    s = time.perf_counter(); subprocess.run([b, "count", "-e", e, f], check=True, capture_output=True); ts.append(time.perf_counter() - s)
print(f"{e}: best {min(ts)*1e3:.0f} ms = {mb/min(ts):.1f} MB/s")
PY
done

echo "== cold start: echo hello | tokenmeter count (whole process, 50 runs)"
python3 - "$BIN" <<'PY'
import subprocess, sys, time, statistics
b = sys.argv[1]
subprocess.run([b, "count"], input=b"hello\n", check=True, capture_output=True)  # cache warm-up
ts = []
for _ in range(50):
    s = time.perf_counter(); subprocess.run([b, "count"], input=b"hello\n", check=True, capture_output=True); ts.append(time.perf_counter() - s)
ts.sort()
print(f"median {statistics.median(ts)*1e3:.1f} ms, min {ts[0]*1e3:.1f} ms, p90 {ts[int(len(ts)*0.9)]*1e3:.1f} ms")
PY

echo "== incremental counter: ~1-token deltas vs one batch count"
echo "   (first line: every intermediate count checked, best of 5; second: timing only, best of 200 each)"
for e in o200k_base cl100k_base; do
  for f in english multilingual mixed; do
    $BENCH incremental "$WORK/$f.txt" 20000 --encoding $e | sed "s/^/$f: /"
    $BENCH incremental "$WORK/$f.txt" 20000 --encoding $e --no-verify | sed "s/^/$f: /"
  done
done
