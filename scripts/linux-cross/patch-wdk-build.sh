#!/usr/bin/env bash
# Makes a patched copy of the registry crate wdk-build 0.6.0 that builds on a Linux host,
# for the CI-only `[patch.crates-io]` in .cargo/linux-cross.toml.
#
# The crate comes from cargo's own download cache and its SHA-256 is checked against
# Cargo.lock, so the copy is exactly the registry crate plus wdk-build-0.6.0.patch
# (about 30 lines: no compile_error! in set_var/remove_var off Windows, registry lookups
# and the `windows` dependency only on Windows, symlinks through a host-cfg helper).
# The copy is re-made only when the patch or the crate changes, so builds stay incremental.
set -euo pipefail

out=${1:?usage: patch-wdk-build.sh OUTPUT_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
patch_file=$root/scripts/linux-cross/wdk-build-0.6.0.patch
name=wdk-build
version=0.6.0

# The checksum Cargo.lock pins for wdk-build 0.6.0 from crates.io.
want=$(awk -v n="$name" -v v="$version" '
  $0 == "[[package]]" { inpkg = 0 }
  $1 == "name" && $3 == "\"" n "\"" { inpkg = 1 }
  inpkg && $1 == "version" && $3 != "\"" v "\"" { inpkg = 0 }
  inpkg && $1 == "checksum" { gsub(/"/, "", $3); print $3; exit }
' "$root/Cargo.lock")
[ -n "$want" ] || { echo "patch-wdk-build: no checksum for $name $version in Cargo.lock" >&2; exit 1; }

stamp=$out/.vigil-stamp
expect_stamp="$want $(sha256sum "$patch_file" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$expect_stamp" ]; then
  exit 0
fi

cargo_home=${CARGO_HOME:-$HOME/.cargo}
find_crate() { find "$cargo_home/registry/cache" -name "$name-$version.crate" 2>/dev/null | head -n 1; }
crate=$(find_crate)
if [ -z "$crate" ]; then
  # Downloads (and checksums) every locked dependency, wdk-build among them.
  (cd "$root" && cargo fetch --locked >/dev/null)
  crate=$(find_crate)
fi
[ -n "$crate" ] || { echo "patch-wdk-build: $name-$version.crate not in $cargo_home/registry/cache" >&2; exit 1; }
got=$(sha256sum "$crate" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "patch-wdk-build: $crate has sha256 $got, Cargo.lock says $want" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/.wdk-build.XXXXXX")
tar -xzf "$crate" -C "$tmp"
# The published sources have CRLF line endings; the patch is plain LF.
find "$tmp/$name-$version" -type f \( -name '*.rs' -o -name '*.toml' \) -exec sed -i 's/\r$//' {} +
patch --quiet --forward --directory="$tmp/$name-$version" -p1 <"$patch_file"
mv "$tmp/$name-$version" "$out"
rmdir "$tmp"
echo "$expect_stamp" >"$stamp"
echo "patch-wdk-build: $out ($name $version + $(basename "$patch_file"))"
