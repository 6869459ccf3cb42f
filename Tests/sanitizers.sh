#!/usr/bin/env bash
# The Swift tests and the C programs (api_test, stress_test) under sanitizers, each build in its
# own .build/<name> folder.
#
#   Tests/sanitizers.sh [address | thread]...      (default: address; CI runs that)
#
#   address: AddressSanitizer on everything; UndefinedBehaviorSanitizer on the C code (Swift has none
#            on Linux: its code is built checked instead, DENOISE_CHECKED=1, so an out-of-bounds
#            index, an overflow or a failed precondition traps); the Swift tests and both C programs.
#   thread:  ThreadSanitizer, the Swift tests and the 8-thread stress test (slow: run by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
export DENOISE_CHECKED=1
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
clang=$(dirname "$(command -v swift)")/clang
runtime=$(cd "$(dirname "$(command -v swift)")/../lib/swift/linux" && pwd)
weights=Tests/Fixtures/mprnet/weights.safetensors
[ $# -gt 0 ] || set -- address

for kind in "$@"; do
    case "$kind" in
        address) swift_flags=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
                 c_flags=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
                 export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
                 export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" ;;
        thread)  swift_flags=(--sanitize=thread); c_flags=(-fsanitize=thread)
                 export TSAN_OPTIONS="halt_on_error=1:${TSAN_OPTIONS:-}" ;;
        *) echo "sanitizers.sh: unknown sanitizer $kind (address or thread)" >&2; exit 2 ;;
    esac
    build=".build/$kind"
    echo "== $kind: Swift tests"
    mkdir -p "$build"
    if ! swift test -c release -Xswiftc -enable-testing --build-path "$build" "${swift_flags[@]}" >"$build/test.log" 2>&1; then
        grep -E -A12 "✘|Sanitizer|runtime error|error:" "$build/test.log" | head -60
        echo "sanitizers.sh: Swift tests failed under $kind (log: $build/test.log)" >&2
        exit 1
    fi
    grep -E "runtime error|Sanitizer" "$build/test.log" && { echo "sanitizers.sh: reports under $kind" >&2; exit 1; }
    echo "  $(grep -E "^✔ Test run with" "$build/test.log")"

    echo "== $kind: C programs against libdenoise"
    swift build -c release --product denoise --build-path "$build" "${swift_flags[@]}" >"$build/lib.log" 2>&1 \
        || { tail -20 "$build/lib.log"; exit 1; }
    lib="$build/release"
    ln -sf libdenoise.so "$lib/libdenoise.so.1"
    programs=(stress_test); [ "$kind" = address ] && programs=(api_test stress_test)
    for p in "${programs[@]}"; do
        # The checked library links the toolchain's Swift runtime and Dispatch (Package.swift).
        "$clang" -std=c11 -g -O1 -fuse-ld=lld "${c_flags[@]}" -pthread -ICHeaders "Tests/C/$p.c" -L"$lib" -ldenoise -lm \
            -L"$runtime" -ldispatch -lBlocksRuntime -Wl,-rpath,"$(pwd)/$lib:$runtime" -o "$build/$p"
        out=$(DENOISE_TEST_WEIGHTS="$weights" "$build/$p" "$weights" 2>&1) || { echo "$out" | tail -40; exit 1; }
        echo "  $p: $(echo "$out" | tail -1)"
    done
done
