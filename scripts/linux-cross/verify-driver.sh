#!/usr/bin/env bash
# `cargo make verify-driver`: build vigil.sys on Linux and check it.
#
#   1. prepare target/linux-cross/ (patched wdk-build, WDK-style header root, env)
#   2. no-panic proof, part 1: build with the `panic-link-check` panic handler, which
#      calls an undefined symbol; the link fails (naming the symbol) if a panic path
#      survives fat LTO
#   3. clippy on the kernel build, warnings denied
#   4. the release build; target/x86_64-pc-windows-msvc/release/vigil.sys (+ vigil.pdb)
#   5. PE checks on vigil.sys (tests/tests/driver_image.rs): AMD64, NATIVE, DriverEntry,
#      NX + DYNAMIC_BASE + FORCE_INTEGRITY, no W+X section, valid checksum, imports only
#      from ntoskrnl.exe / FLTMGR.SYS / HAL.dll, and (no-panic proof, part 2) no
#      KeBugCheckEx
#   6. Wine smoke test (scripts/linux-cross/wine-smoke.sh), if wine64 is installed
#
# Needs scripts/linux-cross/setup.sh once. Leaves Cargo.lock as it found it: the CI-only
# [patch] changes the lock entry of wdk-build while building, so the lock is saved first
# and restored at the end (and at the start of the next run, if this one was killed).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
here=scripts/linux-cross
out=target/linux-cross
triple=x86_64-pc-windows-msvc
release=target/$triple/release
start=$SECONDS
step() { printf '\n== verify-driver [%3ds] %s\n' $((SECONDS - start)) "$*"; }

mkdir -p "$out"
lock_backup=$out/Cargo.lock.orig
if [ -f "$lock_backup" ]; then
  echo "verify-driver: restoring Cargo.lock saved by an interrupted run"
  cp "$lock_backup" Cargo.lock
fi
cp Cargo.lock "$lock_backup"
restore_lock() {
  if [ -f "$lock_backup" ]; then
    cp "$lock_backup" Cargo.lock
    rm -f "$lock_backup"
  fi
}
trap restore_lock EXIT

step "prepare (patched wdk-build, WDK root from mingw-w64 headers)"
"$here/prepare.sh"

cross=(-p vigil-driver --release --config .cargo/driver.toml --config .cargo/linux-cross.toml --config "$out/env.toml")

step "no-panic proof 1/2: link with a panic handler that references an undefined symbol"
if ! cargo build "${cross[@]}" --features panic-link-check 2>"$out/panic-link-check.log"; then
  if grep -q 'vigil_panic_path_survived_lto' "$out/panic-link-check.log"; then
    echo "verify-driver: FAILED: a panic path survived LTO; the linker names the panic handler's caller:" >&2
    grep -A3 'undefined symbol' "$out/panic-link-check.log" >&2
    echo "  find the call sites: llvm-objdump -d $release/deps/vigil_driver.dll, and the map file $release/deps/vigil_driver.map" >&2
  else
    cat "$out/panic-link-check.log" >&2
  fi
  exit 1
fi
echo "verify-driver: linked: no panic path left"

step "clippy (kernel build, warnings denied)"
cargo clippy "${cross[@]}" --features kernel -- -D warnings

step "release build"
cargo build "${cross[@]}" --features kernel
cp "$release/vigil_driver.dll" "$release/vigil.sys"
cp "$release/vigil_driver.pdb" "$release/vigil.pdb"

# Host builds from here on: give them the committed lock.
restore_lock
cp Cargo.lock "$lock_backup"

step "PE checks on $release/vigil.sys"
cargo run -q -p vigil-tests --bin vigil-pe -- fix-checksum "$release/vigil.sys"
VIGIL_SYS="$root/$release/vigil.sys" cargo test -q -p vigil-tests --test driver_image -- --ignored --nocapture

step "Wine smoke test"
"$here/wine-smoke.sh" "$release/vigil.sys"

step "done: $release/vigil.sys ($(stat -c %s "$release/vigil.sys") bytes) in $((SECONDS - start)) s"
