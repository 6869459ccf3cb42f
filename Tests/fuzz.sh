#!/usr/bin/env bash
# Builds the libFuzzer targets under AddressSanitizer and runs each from its committed corpus.
#
#   Tests/fuzz.sh [--seconds N | --runs N] [TARGET...]     targets: weights codecs api (default all)
#
# The library is built instrumented (Swift: -sanitize=address plus edge counters and comparisons;
# its C parts: -fsanitize=address,fuzzer-no-link) in .build/fuzz; the harnesses (Tests/Fuzz/*.c)
# link it with clang -fsanitize=fuzzer,address. New inputs found go to .build/fuzz/corpus/TARGET,
# crashes to .build/fuzz/crash-*; the committed corpus is only read. Exit status non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
limit="-max_total_time=60" targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) limit="-max_total_time=$2"; shift 2 ;;
        --runs) limit="-runs=$2"; shift 2 ;;
        weights|codecs|api) targets+=("$1"); shift ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(weights codecs api)

build=.build/fuzz
flags=(--sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
       -Xcc -fsanitize=fuzzer-no-link)
# SwiftPM does not rebuild when only -X flags change: start over when they do.
[ "$(cat "$build/flags" 2>/dev/null)" = "${flags[*]}" ] || rm -rf "$build"
mkdir -p "$build"
echo "${flags[*]}" >"$build/flags"
swift build -c release --product denoise --build-path "$build" "${flags[@]}" >"$build/build.log" 2>&1 \
    || { tail -30 "$build/build.log"; exit 1; }
lib="$build/release"
ln -sf libdenoise.so "$lib/libdenoise.so.1"  # its SONAME
clang=$(dirname "$(command -v swift)")/clang
cflags=(-g -O1 -fuse-ld=lld -fsanitize=fuzzer,address -ICHeaders -ISources/CImageCodecs/include)
"$clang" "${cflags[@]}" Tests/Fuzz/fuzz_weights.c -L"$lib" -ldenoise -Wl,-rpath,"$(pwd)/$lib" -o "$build/fuzz-weights"
"$clang" "${cflags[@]}" Tests/Fuzz/fuzz_api.c -L"$lib" -ldenoise -Wl,-rpath,"$(pwd)/$lib" -o "$build/fuzz-api"
"$clang" "${cflags[@]}" Tests/Fuzz/fuzz_codecs.c Sources/CImageCodecs/codecs.c Sources/CImageCodecs/exif_tiff.c -lpng -ljpeg -ltiff -o "$build/fuzz-codecs"

# Leaks of the Swift runtime's caches are not findings (each target frees what it made); the library
# may try an allocation too large to have (Memory.reserve), which must fail, not abort.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
status=0
for t in "${targets[@]}"; do
    mkdir -p "$build/corpus/$t"
    dict=(); [ -f "Tests/Fuzz/$t.dict" ] && dict=(-dict="Tests/Fuzz/$t.dict")
    echo "fuzz-$t ($limit)"
    if ! "$build/fuzz-$t" "$limit" -max_len=200000 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
            -artifact_prefix="$build/crash-$t-" "${dict[@]}" "$build/corpus/$t" "Tests/Fuzz/corpus/$t" \
            2>"$build/fuzz-$t.log"; then
        status=1
        tail -40 "$build/fuzz-$t.log"
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz-$t.log" | sed "s/^/  /"
done
exit $status
