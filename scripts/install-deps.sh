#!/usr/bin/env bash
# Installs the Debian 12 packages Tenfold builds and tests with. Safe to run again: apt skips
# what is already there. Uses sudo when not root.
set -euo pipefail
packages=(
  cmake g++ ninja-build pkg-config
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev
  qt6-httpserver-dev qt6-websockets-dev libqt6sql6-sqlite
  libvulkan-dev glslc spirv-tools mesa-vulkan-drivers vulkan-tools
  libeigen3-dev libsqlite3-dev xvfb xauth fonts-noto-cjk
  python3 python3-sentencepiece python3-jinja2 qt6-translations-l10n
  libcpp-httplib-dev nlohmann-json3-dev libssl-dev ca-certificates
  dpkg-dev lintian desktop-file-utils appstream # the package test (tests/e2e/test_packages.sh)
  openmpi-bin libopenmpi-dev
)
# Node runs the official OpenAI client in tst_server_openai. CI already has node and npm from
# nodesource; Debian's npm conflicts with nodesource's nodejs, so Debian's are installed only when
# the commands are missing.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
