#!/usr/bin/env bash
# Installs packages and builds Tenfold (Release, Ninja) into ${TENFOLD_BUILD_DIR:-build}.
# Shared by run-app.sh and run-tests.sh so both set up the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${TENFOLD_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$(nproc)"
