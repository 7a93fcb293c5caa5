#!/usr/bin/env bash
# Does the reference engine load what `tenfold-cli export-standard` writes, and agree on its
# perplexity? Exports a compressed file (low-rank or palette) to TYPE, then scores the export with
# the reference's llama-perplexity (AVX2 build) and with Tenfold's perplexity on the same text.
# usage: tools/export_standard_check.sh BUILD_DIR COMPRESSED.gguf TYPE [CHUNKS]
set -euo pipefail
BUILD=${1:?build dir}; IN=${2:?compressed gguf}; TYPE=${3:?type}; CHUNKS=${4:-8}
SHARED=${TENFOLD_SHARED_DIR:-$(dirname "$0")/../../shared}
CLI=$BUILD/app/cli/tenfold-cli
PEER=$SHARED/peer/llama.cpp-b4748-avx2/llama-perplexity
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$CLI" export-standard "$IN" "$OUT/std.gguf" "$TYPE"
theirs=$("$PEER" -m "$OUT/std.gguf" -f "$SHARED/text/valid.txt" -c 512 --chunks "$CHUNKS" -t 2 2>&1 |
         sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
ours=$("$CLI" perplexity "$OUT/std.gguf" -f "$SHARED/text/valid.txt" --ctx 512 --chunks "$CHUNKS" 2>/dev/null |
       sed -n 's/.*PPL = \([0-9.]*\).*/\1/p' | head -1)
python3 -c "import sys; a,b=float('$theirs'),float('$ours'); print('reference llama-perplexity %.4f, tenfold %.4f, difference %.4f%%' % (a, b, 100*abs(a-b)/a))"
