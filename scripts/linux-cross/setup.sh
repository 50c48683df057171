#!/usr/bin/env bash
# One-time (idempotent) host setup for the Linux verification build of vigil.sys.
#
# Installs what `cargo make verify-driver` needs on Debian 12:
#   - mingw-w64-x86-64-dev: the DDK headers (ntifs.h, ntddk.h, wdm.h, ...) and the
#     import archives from which scripts/linux-cross/wdk-root.sh derives ntoskrnl.lib etc.
#   - libclang-dev: libclang for bindgen (wdk-sys generates its bindings at build time)
#     and clang's resource headers (mmintrin.h, ...).
#   - patch: applies scripts/linux-cross/wdk-build-0.6.0.patch to the registry crate.
#   - llvm: llvm-nm / llvm-dlltool / llvm-ar, used to make the import libraries.
#   - wine64 (unless VIGIL_WINE=0): the DriverEntry smoke test (wine-smoke.sh), which
#     verify-driver skips, saying so, when Wine is absent.
# and the Rust target x86_64-pc-windows-msvc. The linker is the rust-lld that ships
# with the toolchain; no MSVC, no mingw gcc. cargo-make itself is not installed here.
#
# Run as root (or with sudo available). Safe to run again: it only adds what is missing.
set -euo pipefail

packages=(mingw-w64-x86-64-dev libclang-dev llvm patch)
if [ "${VIGIL_WINE:-1}" = 1 ]; then
  packages+=(wine64)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: apt packages already present (${packages[*]})"
fi

# rust-toolchain.toml pins the toolchain and lists the target; rustup installs both on
# first use, but add the target explicitly so this script is enough on its own.
# (Only what is missing: reinstalling a toolchain under other builds would disturb them.)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup target list --installed --toolchain "$toolchain" 2>/dev/null | grep -qx x86_64-pc-windows-msvc; then
  rustup target add --toolchain "$toolchain" x86_64-pc-windows-msvc
fi
echo "setup: done"
