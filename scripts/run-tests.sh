#!/usr/bin/env bash
# Installs packages, builds everything (Release) and runs every CTest suite.
# Vulkan tests run on lavapipe (Mesa's CPU driver) when no GPU is present.
# A suite whose data or device is missing is reported by CTest as skipped; with
# TENFOLD_REQUIRE_ALL=1 (as in CI) a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build=${TENFOLD_BUILD_DIR:-build}
export QT_QPA_PLATFORM=offscreen
if ! ls /dev/dri/renderD* >/dev/null 2>&1 && [ -f /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]; then
  export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0 # pipefail: ctest's exit status, through tee
# Suites that need root's mount privileges (label `privileged`) run only when asked for;
# TENFOLD_EXCLUDE_SLOW=1 (set by .ci/run to keep CI under its 30 minutes) leaves out the suites
# labelled `slow`, which every other run of this command includes.
excluded=()
[ "${TENFOLD_PRIVILEGED_TESTS:-0}" != 0 ] || excluded+=(privileged)
[ "${TENFOLD_EXCLUDE_SLOW:-0}" = 0 ] || excluded+=(slow)
exclude=()
if [ ${#excluded[@]} -gt 0 ]; then
  exclude=(-LE "$(IFS='|'; echo "${excluded[*]}")")
fi
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" "${exclude[@]}" "$@" | tee "$log" || status=$?
if [ "${TENFOLD_REQUIRE_ALL:-0}" != 0 ] && grep -q '\*\*\*Skipped\|Not Run' "$log"; then
  echo "run-tests: some suites did not run, and TENFOLD_REQUIRE_ALL=1 forbids that" >&2
  exit 1
fi
exit "$status"
