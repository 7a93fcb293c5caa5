#!/usr/bin/env bash
# Installs packages, builds everything (Release) and runs every CTest suite.
# Vulkan tests run on lavapipe (Mesa's CPU driver) when no GPU is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build=${TENFOLD_BUILD_DIR:-build}
export QT_QPA_PLATFORM=offscreen
if ! ls /dev/dri/renderD* >/dev/null 2>&1 && [ -f /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]; then
  export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" "$@"
