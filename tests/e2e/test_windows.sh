#!/usr/bin/env bash
# The Windows build under wine (CTest `test_windows`, label `windows`; registered when the cache
# variable TENFOLD_WINDOWS_BUILD_DIR names a finished cross build, see scripts/build-windows.sh).
#   test_windows.sh WINDOWS_BUILD_DIR LINUX_TENFOLD_CLI SHARED_DIR
# The oracle is the Linux build of the same sources: the Windows programs must print the same
# bytes and write the same files. Then the NSIS installer is installed silently into a fresh wine
# prefix, run from there, and uninstalled, checking files, registry and PATH each time.
set -euo pipefail
winbuild=$(realpath "$1"); linux_cli=$(realpath "$2"); shared=$(realpath "$3")
wine=$(command -v wine64 || true)
[ -n "$wine" ] || wine=/usr/lib/wine/wine64 # Debian's wine64 package alone has no wrapper in PATH
wineserver=$(command -v wineserver || true)
[ -n "$wineserver" ] || wineserver=/usr/lib/wine/wineserver64
[ -x "$wine" ] || { echo "test_windows: wine64 is not installed (scripts/build-windows.sh installs it)" >&2; exit 1; }

work=$(mktemp -d)
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
trap '"$wineserver" -k >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
fail() { echo "test_windows: FAIL: $*" >&2; exit 1; }
winpath() { echo "Z:$(echo "$1" | tr / '\\')"; } # wine maps Z: to /
exe="$winbuild/app/cli/tenfold-cli.exe"
[ -f "$exe" ] || fail "$exe is missing: run scripts/build-windows.sh first"
setup=$(ls "$winbuild"/tenfold-*-windows-x86_64-setup.exe 2>/dev/null | head -1)
[ -n "$setup" ] || fail "no installer in $winbuild: run scripts/build-windows.sh first"

"$wine" wineboot --init >/dev/null 2>&1 || true
"$wineserver" -w

echo "== --version"
version=$("$wine" "$exe" --version | tr -d '\r')
[ "$version" = "$("$linux_cli" --version)" ] || fail "--version: '$version' vs Linux '$("$linux_cli" --version)'"

echo "== generate, byte for byte against Linux"
for model in stories260K.gguf tenfold-ref-main-f16.gguf; do
  for threads in 1 2; do
    "$linux_cli" generate "$shared/models/$model" -p "Once upon a time" -n 48 --temp 0 -t $threads --no-ledger \
      >"$work/linux.txt" 2>/dev/null
    "$wine" "$exe" generate "$(winpath "$shared/models/$model")" -p "Once upon a time" -n 48 --temp 0 -t $threads \
      >"$work/windows.txt" 2>"$work/windows.err" || { cat "$work/windows.err" >&2; fail "generate $model failed"; }
    cmp -s "$work/linux.txt" "$work/windows.txt" || {
      diff <(xxd "$work/linux.txt") <(xxd "$work/windows.txt") | head >&2
      fail "generate $model -t $threads differs from Linux"
    }
    echo "   $model, $threads thread(s): same $(wc -c <"$work/linux.txt") bytes"
  done
done

echo "== quantize into a folder with a non-ASCII name, file against Linux"
mkdir -p "$work/模型 folder"
"$linux_cli" quantize "$shared/models/stories260K.gguf" "$work/linux-q8.gguf" Q8_0 >/dev/null 2>&1
"$wine" "$exe" quantize "$(winpath "$shared/models/stories260K.gguf")" "$(winpath "$work/模型 folder/q8.gguf")" Q8_0 \
  >/dev/null 2>"$work/q.err" || { cat "$work/q.err" >&2; fail "quantize to a non-ASCII path failed"; }
cmp -s "$work/linux-q8.gguf" "$work/模型 folder/q8.gguf" || fail "the Windows Q8_0 file differs from Linux's"
ls "$work/模型 folder" | grep -q tmp && fail "a temporary file was left behind"
"$wine" "$exe" generate "$(winpath "$work/模型 folder/q8.gguf")" -p "Once" -n 16 --temp 0 >"$work/wq.txt" 2>/dev/null
"$linux_cli" generate "$work/linux-q8.gguf" -p "Once" -n 16 --temp 0 --no-ledger >"$work/lq.txt" 2>/dev/null
cmp -s "$work/lq.txt" "$work/wq.txt" || fail "generate on the non-ASCII path differs"

echo "== a clear error, not a crash, for a missing model"
set +e
"$wine" "$exe" generate 'Z:\no\such\model.gguf' -p x -n 1 >/dev/null 2>"$work/e.txt"; rc=$?
set -e
[ $rc -eq 1 ] || fail "missing model: exit code $rc, expected 1"
grep -q "model file not found" "$work/e.txt" || fail "missing model: message was $(cat "$work/e.txt")"

echo "== installer: silent per-user install with PATH, run, uninstall"
regq() { "$wine" reg query "$1" ${2:+/v "$2"} 2>/dev/null | tr -d '\r'; }
# A PATH that already has an entry: the installer appends, the uninstaller restores it exactly.
"$wine" reg add 'HKCU\Environment' /v Path /t REG_EXPAND_SZ /d 'C:\Existing' /f >/dev/null 2>&1
timeout 120 "$wine" "$setup" /S /CurrentUser /AddToPath '/D=C:\TenfoldTest'
"$wineserver" -w
dir="$WINEPREFIX/drive_c/TenfoldTest"
for f in tenfold-cli.exe uninstall.exe; do [ -f "$dir/$f" ] || fail "installed $f missing"; done
regq 'HKCU\Software\Classes\.gguf' | grep -q "Tenfold.GGUF" || fail ".gguf is not associated"
regq 'HKCU\Software\Classes\Tenfold.GGUF\shell\inspect\command' | grep -q "tenfold-cli.exe" || fail "no Inspect verb"
regq 'HKCU\Environment' Path | grep -qi 'C:\\Existing;C:\\TenfoldTest$' || fail "PATH is not the old one plus the install folder"
regq 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Tenfold' | grep -q "DisplayVersion.*${version#tenfold-cli }" \
  || fail "Apps & features entry missing or wrong version"
ls "$WINEPREFIX/drive_c/users/"*/AppData/Roaming/Microsoft/Windows/Start\ Menu/Programs/Tenfold/*.lnk >/dev/null \
  || fail "no Start-menu shortcuts"
"$wine" 'C:\TenfoldTest\tenfold-cli.exe' generate "$(winpath "$shared/models/stories260K.gguf")" -p "Once upon a time" \
  -n 48 --temp 0 -t 1 >"$work/installed.txt" 2>/dev/null
"$linux_cli" generate "$shared/models/stories260K.gguf" -p "Once upon a time" -n 48 --temp 0 -t 1 --no-ledger \
  >"$work/linux.txt" 2>/dev/null
cmp -s "$work/linux.txt" "$work/installed.txt" || fail "the installed tenfold-cli prints different text"

timeout 120 "$wine" 'C:\TenfoldTest\uninstall.exe' /S /CurrentUser '_?=C:\TenfoldTest'
"$wineserver" -w
[ ! -f "$dir/tenfold-cli.exe" ] || fail "uninstall left tenfold-cli.exe"
regq 'HKCU\Software\Classes\.gguf' | grep -q "Tenfold.GGUF" && fail "uninstall left the .gguf association"
regq 'HKCU\Environment' Path | grep -qi 'TenfoldTest' && fail "uninstall left the PATH entry"
regq 'HKCU\Environment' Path | grep -q 'REG_EXPAND_SZ *C:\\Existing$' || fail "uninstall did not restore PATH: $(regq 'HKCU\Environment' Path)"
regq 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Tenfold' | grep -q DisplayName && fail "uninstall left Apps & features"
echo "test_windows: all checks passed"
