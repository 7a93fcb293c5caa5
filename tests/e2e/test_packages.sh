#!/usr/bin/env bash
# The Debian packages, built by CPack from this build and installed with dpkg into a fresh root
# (its own empty dpkg database): both packages install, the programs run from there (--version,
# a generation on stories260K identical to the build tree's, the desktop app's --help offscreen),
# Depends names what the binaries need, the desktop entry and AppStream data validate, and lintian
# reports no errors (its warnings are printed for the record).
# usage: test_packages.sh BUILD_DIR SHARED_DIR VERSION
set -euo pipefail
build=$1 shared=$2 version=$3
model=$shared/models/stories260K.gguf
if [ ! -f "$model" ]; then echo "test_packages: $model missing"; exit 77; fi
for tool in cpack dpkg dpkg-deb; do
  command -v $tool >/dev/null || { echo "test_packages: $tool missing"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; exit 1; }
cli_deb=$(ls "$work"/pkg/tenfold-cli_*.deb)
gui_deb=$(ls "$work"/pkg/tenfold_*.deb 2>/dev/null || true)
echo "packages: $(cd "$work/pkg" && ls *.deb | tr '\n' ' ')"

field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$cli_deb" Version)" = "$version" ] || { echo "tenfold-cli version $(field "$cli_deb" Version), want $version"; exit 1; }
cli_depends=$(field "$cli_deb" Depends)
echo "tenfold-cli Depends: $cli_depends"
grep -q "libc6" <<<"$cli_depends" || { echo "dpkg-shlibdeps found no libc6 dependency"; exit 1; }
if grep -qi "qt6\|libqt" <<<"$cli_depends"; then echo "tenfold-cli must not need Qt"; exit 1; fi

# A fresh root with an empty dpkg database.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkg_root() { dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless \
                   --log=/dev/null --instdir="$root" --admindir="$root/var/lib/dpkg" "$@"; }
dpkg_root -i "$cli_deb" >/dev/null 2>&1 # the fresh root has no libc6: --force-depends
[ "$("$root/usr/bin/tenfold-cli" --version)" = "tenfold-cli $version" ] || { echo "tenfold-cli --version: $("$root/usr/bin/tenfold-cli" --version)"; exit 1; }
[ "$("$root/usr/bin/tenfold-server" --version)" = "tenfold-server $version" ] || exit 1
gen() { "$1" generate "$model" -p "Once upon a time" -n 24 --temp 0 --threads 1 --no-ledger 2>/dev/null; }
installed=$(gen "$root/usr/bin/tenfold-cli")
built=$(gen "$build/app/cli/tenfold-cli")
[ -n "$installed" ] && [ "$installed" = "$built" ] || { echo "installed generate differs: '$installed' vs '$built'"; exit 1; }
[ -f "$root/usr/share/man/man1/tenfold-cli.1.gz" ] && [ -f "$root/usr/share/man/man1/tenfold-server.1.gz" ] ||
  { echo "no tenfold-cli man page"; exit 1; }

if [ -n "$gui_deb" ]; then
  gui_depends=$(field "$gui_deb" Depends)
  echo "tenfold Depends: $gui_depends"
  for need in libqt6sql6-sqlite "tenfold-cli (= $version)" libqt6widgets6; do
    grep -qF "$need" <<<"$gui_depends" || { echo "tenfold's Depends lacks $need"; exit 1; }
  done
  grep -q "vulkan" <<<"$(field "$gui_deb" Recommends)" || { echo "no Vulkan driver recommended"; exit 1; }
  dpkg_root -i "$gui_deb" >/dev/null 2>&1
  for f in usr/bin/tenfold usr/share/applications/tenfold.desktop usr/share/mime/packages/tenfold-gguf.xml \
           usr/share/metainfo/io.github.tenfold.Tenfold.metainfo.xml usr/share/icons/hicolor/scalable/apps/tenfold.svg \
           usr/share/icons/hicolor/16x16/apps/tenfold.png usr/share/icons/hicolor/512x512/apps/tenfold.png; do
    [ -e "$root/$f" ] || { echo "missing from the package: /$f"; exit 1; }
  done
  QT_QPA_PLATFORM=offscreen "$root/usr/bin/tenfold" --help | grep -q "tenfold" || { echo "tenfold --help failed"; exit 1; }
  [ "$(QT_QPA_PLATFORM=offscreen "$root/usr/bin/tenfold" --version)" = "tenfold $version" ] || exit 1
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$root/usr/share/applications/tenfold.desktop"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net --pedantic "$root/usr/share/metainfo/io.github.tenfold.Tenfold.metainfo.xml" ||
      { echo "appstreamcli found problems"; exit 1; }
  fi
fi
dpkg_root -l | grep -E "^ii +tenfold" || { echo "dpkg does not list the packages as installed"; exit 1; }

if command -v lintian >/dev/null; then
  # Errors fail; warnings are listed (docs/PACKAGING.md keeps the current list and why).
  lintian --tag-display-limit 0 "$work"/pkg/*.deb >"$work/lintian.txt" 2>&1 || true
  cat "$work/lintian.txt"
  if grep -q "^E:" "$work/lintian.txt"; then echo "lintian errors"; exit 1; fi
fi
echo "test_packages: passed"
