#!/usr/bin/env bash
# Cross-compiles Tenfold's command-line program for 64-bit Windows with Debian's mingw-w64 and
# packs it into an NSIS installer:
#   scripts/build-windows.sh [BUILD_DIR]       (default build-windows/)
# Leaves BUILD_DIR/app/cli/tenfold-cli.exe and BUILD_DIR/tenfold-VERSION-windows-x86_64-setup.exe.
# Debian has no SQLite, OpenSSL, cpp-httplib or Qt for mingw, so this build has tenfold-cli
# without the usage ledger, --db and the hub commands (search, pull), and no tenfold-server or
# desktop app; .github/workflows/windows.yml builds everything natively on Windows (MSYS2).
# Test it under wine against the Linux build: tests/e2e/test_windows.sh, or configure the Linux
# build with -DTENFOLD_WINDOWS_BUILD_DIR=BUILD_DIR and run `ctest -L windows`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-windows}

packages=(g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 nsis wine64 cmake ninja-build libeigen3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "build-windows: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
  -DTENFOLD_BUILD_GPU=OFF -DTENFOLD_BUILD_GUI=OFF -DTENFOLD_BUILD_TESTS=OFF -DTENFOLD_WITH_STORE=OFF \
  -DEigen3_DIR=/usr/share/eigen3/cmake "${launcher[@]}"
cmake --build "$build" --target tenfold-cli

version=$(sed -n 's/^project(Tenfold VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
stage="$build/stage"
rm -rf "$stage"
mkdir -p "$stage"
cp "$build/app/cli/tenfold-cli.exe" "$stage/"
cp README.md "$stage/README.md"
cp installers/windows/LICENSE.txt "$stage/LICENSE.txt"
setup="$(realpath "$build")/tenfold-$version-windows-x86_64-setup.exe"
makensis -V2 -DVERSION="$version" -DSTAGE="$(realpath "$stage")" -DOUTFILE="$setup" installers/windows/tenfold.nsi
echo "build-windows: $build/app/cli/tenfold-cli.exe and $setup"
