#!/usr/bin/env bash
# Assembles a WDK-style content root from Debian's mingw-w64 DDK headers, for the Linux
# verification build of vigil.sys (wdk-build finds it through WDKContentRoot).
#
#   $1/Include/<ver>/km/crt   the project's overlay headers (scripts/linux-cross/overlay/km/crt)
#   $1/Include/<ver>/km       symlinks to every header in /usr/share/mingw-w64/include/ddk
#   $1/Include/<ver>/shared   symlink to /usr/share/mingw-w64/include
#   $1/Lib/<ver>/km/x64       ntoskrnl.lib, hal.lib, wmilib.lib (import libraries made with
#                             llvm-dlltool from .def files derived from mingw's lib*.a) and an
#                             empty BufferOverflowFastFailK.lib
# wdk-build adds the include directories in the order km/crt, km, shared and links the four
# libraries by name (kind=static, hence *.lib). <ver> must look like an SDK version; the
# largest 10.* directory wins.
set -euo pipefail

out=${1:?usage: wdk-root.sh OUTPUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ver=10.0.22621.0
mingw_inc=/usr/share/mingw-w64/include
mingw_lib=/usr/x86_64-w64-mingw32/lib

# Kernel exports that mingw-w64 10's libntoskrnl.a does not list but the x64 kernel
# exports (and the WDK's ntoskrnl.lib has). Each is used by the driver or its crates:
#   ExAllocatePool2           wdk-alloc (Windows 10 2004+)
#   __chkstk                  emitted by rustc for stack frames larger than a page
#   KeQuerySystemTimePrecise  record timestamps (Windows 8+)
#   PsGetProcessStartKey      process keys in record headers (Windows 10 1703+)
EXTRA_EXPORTS=(ExAllocatePool2 __chkstk KeQuerySystemTimePrecise PsGetProcessStartKey)

for f in "$mingw_inc/ddk/ntifs.h" "$mingw_lib/libntoskrnl.a"; do
  [ -e "$f" ] || { echo "wdk-root: $f missing; run scripts/linux-cross/setup.sh" >&2; exit 1; }
done
for t in llvm-nm llvm-dlltool llvm-ar llvm-objdump; do
  command -v "$t" >/dev/null || { echo "wdk-root: $t missing; run scripts/linux-cross/setup.sh" >&2; exit 1; }
done

rm -rf "$out"
inc=$out/Include/$ver
lib=$out/Lib/$ver/km/x64
mkdir -p "$inc/km/crt" "$lib"
for h in "$mingw_inc"/ddk/*.h; do
  ln -s "$h" "$inc/km/$(basename "$h")"
done
ln -s "$mingw_inc" "$inc/shared"
cp "$here"/overlay/km/crt/*.h "$inc/km/crt/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The DLL name an import archive binds to: the NUL-terminated string in the .idata$7
# section of its "t" (tail) member.
dll_name() {
  local archive=$1 member hex name="" byte
  member=$(llvm-ar t "$archive" | grep 't\.o$' | head -n 1)
  llvm-ar p "$archive" "$member" >"$tmp/tail.o"
  hex=$(llvm-objdump -s -j '.idata$7' "$tmp/tail.o" | sed -n 's/^ [0-9a-f]\{4\} \(.\{35\}\).*/\1/p' | tr -d ' \n')
  while [ -n "$hex" ]; do
    byte=${hex:0:2}
    hex=${hex:2}
    [ "$byte" = 00 ] && break
    name+=$(printf "\\x$byte")
  done
  [ -n "$name" ] || { echo "wdk-root: no DLL name in $archive" >&2; exit 1; }
  printf '%s' "$name"
}

# A .def from an import archive: functions (a "T name" entry) are exported as code;
# names with only an "I __imp_name" entry are data exports.
make_def() {
  local archive=$1 def=$2
  shift 2
  llvm-nm "$archive" 2>/dev/null | awk '$2 == "T" { print $3 }' | sort -u >"$tmp/code"
  llvm-nm "$archive" 2>/dev/null | awk '$2 == "I" && $3 ~ /^__imp_/ { sub(/^__imp_/, "", $3); print $3 }' | sort -u >"$tmp/imp"
  {
    echo "LIBRARY \"$(dll_name "$archive")\""
    echo "EXPORTS"
    cat "$tmp/code"
    comm -13 "$tmp/code" "$tmp/imp" | sed 's/$/ DATA/'
    for extra in "$@"; do
      grep -qx "$extra" "$tmp/code" || echo "$extra"
    done
  } >"$def"
}

make_def "$mingw_lib/libntoskrnl.a" "$tmp/ntoskrnl.def" "${EXTRA_EXPORTS[@]}"
make_def "$mingw_lib/libhal.a" "$tmp/hal.def"
make_def "$mingw_lib/libwmilib.a" "$tmp/wmilib.def"
for name in ntoskrnl hal wmilib; do
  llvm-dlltool -m i386:x86-64 -d "$tmp/$name.def" -l "$lib/$name.lib"
done
# wdk-build links BufferOverflowFastFailK for /GS support; Rust code needs nothing from it.
llvm-ar rcs "$lib/BufferOverflowFastFailK.lib"

echo "wdk-root: $out ($(grep -c . "$tmp/ntoskrnl.def") ntoskrnl lines, overlay: $(ls "$here"/overlay/km/crt | tr '\n' ' '))"
