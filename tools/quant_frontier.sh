#!/usr/bin/env bash
# Size vs KL divergence of ref-main quantized by Tenfold's methods, scored like the reference
# engine's figures in $SHARED/reference/quant-imatrix.json (valid.txt, ctx 512, first 120 chunks).
# usage: tools/quant_frontier.sh BUILD_DIR OUT_DIR [CONFIG...]
#   CONFIG = TYPE:OUTPUT_TYPE:METHOD (one type, the output projection's, rtn|imatrix|gptq)
#          | SIZE:MB:METHOD          (a budgeted mix of at most MB * 10^6 bytes, measured on 2 windows)
set -euo pipefail
BUILD=${1:?build dir}; OUT=${2:?output dir}; shift 2
SHARED=${TENFOLD_SHARED_DIR:-$(dirname "$0")/../../shared}
CLI=$BUILD/app/cli/tenfold-cli
BASE=$SHARED/models/tenfold-ref-main-f16.gguf
CONFIGS=("$@")
[ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=(Q4_0:Q6_K:rtn Q4_0:Q6_K:imatrix Q4_0:Q6_K:gptq Q4_0:Q4_0:gptq Q4_0:Q5_0:gptq
                                     Q4_1:Q6_K:gptq Q5_0:Q6_K:gptq Q5_1:Q6_K:gptq Q8_0:Q8_0:gptq)
mkdir -p "$OUT"
[ -f "$OUT/calib.dat" ] || "$CLI" imatrix "$BASE" -f "$SHARED/text/calibration.txt" -o "$OUT/calib.dat" 2>/dev/null
printf "%-8s %-7s %-8s %12s %10s %10s %8s\n" type output method bytes kld kld99 ppl
for c in "${CONFIGS[@]}"; do
  IFS=: read -r type outtype method <<<"$c"
  f=$OUT/ref-main-$type-$outtype-$method.gguf
  size=()
  if [ "$type" = SIZE ]; then size=(--target-size "$outtype" --probe-chunks 2); type=Q4_0; outtype=; fi
  case $method in
    rtn) extra=(--method rtn) ;;
    imatrix) extra=(--method imatrix --imatrix "$OUT/calib.dat") ;;
    gptq) extra=(--method gptq -f "$SHARED/text/calibration.txt") ;;
  esac
  out=(); [ -n "$outtype" ] && out=(--output-type "$outtype")
  "$CLI" quantize "$BASE" "$f" "$type" "${out[@]}" "${size[@]}" "${extra[@]}" >/dev/null 2>&1
  r=$("$CLI" perplexity "$f" --kl-base "$BASE" -f "$SHARED/text/valid.txt" --chunks 120 2>/dev/null)
  kld=$(sed -n 's/.*mean \([0-9.]*\) .*/\1/p' <<<"$r")
  k99=$(sed -n 's/.*99th percentile \([0-9.]*\),.*/\1/p' <<<"$r")
  ppl=$(sed -n 's/^model: PPL = \([0-9.]*\).*/\1/p' <<<"$r")
  printf "%-8s %-7s %-8s %12s %10s %10s %8s\n" "${size[1]:-$type}" "${outtype:-mix}" "$method" "$(stat -c %s "$f")" "$kld" "$k99" "$ppl"
done
