#!/usr/bin/env bash
# Size vs KL divergence of ref-main compressed by quantization, low-rank factorisation and
# palettes (docs/COMPRESSION.md), each scored by `tenfold-cli evaluate` against the F16 base on
# valid.txt (ctx 512, the first $CHUNKS windows: the same for every point).
# usage: tools/compress_frontier.sh BUILD_DIR OUT_DIR [NAME=ARGS ...]
#   ARGS: "quantize TYPE [opts]" | "compress [opts]" (IN and OUT are filled in)
set -euo pipefail
BUILD=${1:?build dir}; OUT=${2:?output dir}; shift 2
SHARED=${TENFOLD_SHARED_DIR:-$(dirname "$0")/../../shared}
CLI=$BUILD/app/cli/tenfold-cli
BASE=$SHARED/models/tenfold-ref-main-f16.gguf
CALIB=$SHARED/text/calibration.txt
CHUNKS=${CHUNKS:-30}
mkdir -p "$OUT"
CONFIGS=("$@")
[ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=(
  "q8_0=quantize Q8_0 --method gptq -f $CALIB"
  "iq4nl=quantize IQ4_NL --method imatrix -f $CALIB"
  "pal4-embIQ4=compress --palette 4 --type IQ4_NL -f $CALIB"
  "pal4-embpal=compress --palette 4 --palette-embedding -f $CALIB"
  "pal2-embIQ4=compress --palette 2 --type IQ4_NL -f $CALIB"
  "pal2-embpal=compress --palette 2 --palette-embedding -f $CALIB"
  "lr-f16-17=compress --low-rank --target-size 17 -f $CALIB"
  "lr-q8-12=compress --low-rank --target-size 12 --factor-type Q8_0 --type Q8_0 -f $CALIB"
  "lr-iq4-7=compress --low-rank --target-size 7 --factor-type IQ4_NL --type IQ4_NL -f $CALIB"
)
printf "%-14s %12s %10s %10s %9s %8s\n" name bytes kld_mean kld_p99 same_top ppl
for c in "${CONFIGS[@]}"; do
  name=${c%%=*}; args=${c#*=}
  read -r -a a <<<"$args"
  f=$OUT/ref-main-$name.gguf
  if [ "${a[0]}" = quantize ]; then
    "$CLI" quantize "$BASE" "$f" "${a[@]:1}" >"$OUT/$name.log" 2>&1
  else
    "$CLI" compress "$BASE" "$f" "${a[@]:1}" >"$OUT/$name.log" 2>&1
  fi
  "$CLI" evaluate "$f" --base "$BASE" -f "$SHARED/text/valid.txt" --chunks "$CHUNKS" --json \
    --cache-dir "$OUT/cache" >"$OUT/$name.json" 2>>"$OUT/$name.log"
  python3 - "$OUT/$name.json" "$name" "$(stat -c %s "$f")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def g(*keys):
    for k in keys:
        v = r
        try:
            for p in k.split("."):
                v = v[p]
            return v
        except (KeyError, TypeError):
            pass
    return float("nan")
print("%-14s %12s %10.6f %10.6f %9.2f %8.3f" % (sys.argv[2], sys.argv[3], g("kld.mean"), g("kld.p99"),
      g("same_top_pct"), g("perplexity.ppl")))
PY
done
