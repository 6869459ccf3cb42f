#!/usr/bin/env bash
# The whole test suite: installs what the machine lacks (Tests/setup.sh), then the Swift unit
# tests, an install into a temporary prefix and GIMP folder, the end-to-end tests (C API, CLI, GIMP
# batch mode and dialog) against that install, the sanitizer and fuzz runs, and the training tests
# where PyTorch is installed.
# The evaluation images come from ../shared/data beside the repository (or $DENOISE_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
Tests/setup.sh
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null || { echo "Tests/run.sh: Swift 6 is needed (https://swift.org/install)" >&2; exit 1; }

export DENOISE_DATA="${DENOISE_DATA:-$(pwd)/../shared/data}"
if [ ! -d "$DENOISE_DATA/eval/Kodak24" ]; then
    echo "Tests/run.sh: the evaluation images are missing: no $DENOISE_DATA/eval/Kodak24." >&2
    echo "  Put the project's shared/ folder beside the repository (../shared/data), or point" >&2
    echo "  DENOISE_DATA at a copy of it; the tests read Kodak24, Set12, CBSD68 and PolyU100 from it." >&2
    exit 1
fi

swift test -c release -Xswiftc -enable-testing

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export DENOISE_PREFIX="$tmp/prefix" GIMP2_DIRECTORY="$tmp/gimp"
./install.sh --prefix "$DENOISE_PREFIX" --no-deps
python3 -m pytest -q Tests/integration

# The Swift tests and the C programs under AddressSanitizer (and UBSan on the C code), then each
# fuzz target for a minute from its corpus: a regression of either fails the suite.
Tests/sanitizers.sh address
Tests/fuzz.sh --seconds 60

if python3 -c "import torch" 2>/dev/null; then
    python3 -m pytest -q Training/tests
else
    echo "PyTorch not installed: skipping Training/tests"
fi
