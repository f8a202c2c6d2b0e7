#!/bin/sh
# Builds lib/kernels/kernels.c into lib/kernels/binaries.ts (the four wasm modules, base64, with kernels.c's sha256):
# `npm run build:kernels` after editing kernels.c. The output is committed, so installs need no C toolchain.
#   plain / relaxed: f32x4 mul + add / relaxed madd (FMA where the CPU has it)
#   local / shared:  imports tfjs-wasm's memory as its single-threaded build makes it / as its threaded build does
# Needs clang, wasm-ld and llvm-objdump 14+ (Debian: apt-get install clang lld llvm) and node. -disable-lsr: see kernels.c's micro-kernel.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CFLAGS="--target=wasm32 -O3 -msimd128 -mbulk-memory -mllvm -disable-lsr -nostdlib -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all"
SHARED="-matomics -Wl,--shared-memory -Wl,--max-memory=4294967296"
for mem in local shared; do
  flags="$CFLAGS"; [ "$mem" = shared ] && flags="$CFLAGS $SHARED"
  clang $flags lib/kernels/kernels.c -o "$out/plain-$mem.wasm"
  clang $flags -mrelaxed-simd -DRELAXED lib/kernels/kernels.c -o "$out/fma-$mem.wasm"
  npx tsx tools/relaxed-madd.ts "$out/fma-$mem.wasm" "$out/relaxed-$mem.wasm"
done
# The modules run on tfjs-wasm's memory, so they must not touch a stack (wasm-ld would put it in tfjs's own data):
# no function may read or write a global (the stack pointer is one), e.g. a struct passed by value.
objdump=$(command -v llvm-objdump || command -v llvm-objdump-14)
for f in "$out"/plain-*.wasm "$out"/fma-*.wasm; do
  if "$objdump" -d "$f" | grep -q 'global\.'; then
    echo "build-kernels: $(basename "$f") uses a global (the stack?): $("$objdump" -d "$f" | grep -B30 'global\.' | grep -o '<[a-z_0-9]*>:' | tail -1)" >&2
    exit 1
  fi
done
npx tsx tools/embed-kernels.ts "$out" lib/kernels/binaries.ts lib/kernels/kernels.c
