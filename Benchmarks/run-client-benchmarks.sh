#!/bin/sh
# Runs the streaming client's full-size measurements (release build) and prints the results for
# BENCHMARKS.md ("Streaming client"). The script also leaves them in ./BENCHMARKS-client.md, a scratch
# copy that is not part of the repository.
# Usage: Benchmarks/run-client-benchmarks.sh [slow-consumer-chunks (default 10000)]
set -eu
cd "$(dirname "$0")/.."
swift build --package-path Benchmarks -c release --product TokenMeterClientStress
{
    ./Benchmarks/.build/release/TokenMeterClientStress "${1:-10000}"
    cat <<'NOTES'
Notes:
- RSS is the whole process, which includes the in-process test upstream (it records a 16-byte write time
  per chunk). "peak buffered" is the client's own decoded-but-unconsumed bytes: it stays at the 64 KiB
  limit plus one event, because the write callback pauses the transfer (CURL_WRITEFUNC_PAUSE) when full.
- "upstream's last write after": the upstream (which waits for socket writability like a real server)
  finishes writing long before the consumer does only because loopback socket buffers absorb ~2.5 MB;
  the rest was held back by TCP flow control while curl was paused.
- Close latency: from the moment the consumer leaves its loop (dropping the iterator) to the upstream's
  channelInactive; "chunks written after cancel" counts the upstream's writes after that moment.
- Threads: main, NIO's event loop (test upstream), Swift's cooperative pool, and one `tm-curl-loop`
  thread for all streams of a client.
NOTES
    echo
    echo "Run on $(date -u +%Y-%m-%d) with \`Benchmarks/run-client-benchmarks.sh\`."
} > BENCHMARKS-client.md
cat BENCHMARKS-client.md
