#!/usr/bin/env bash
# Installs packages, builds Tenfold (Release) and launches it on the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build=${TENFOLD_BUILD_DIR:-build}
model=${TENFOLD_MODEL:-../shared/models/tenfold-ref-main-f16.gguf}
if [ -x "$build/app/gui/tenfold" ]; then
  exec "$build/app/gui/tenfold" --model "$model" "$@"
fi
exec "$build/app/cli/tenfold-cli" chat "$model" "$@"
