#!/usr/bin/env bash
# The whole test suite: Swift unit tests, then an install into a temporary prefix and GIMP folder,
# then the end-to-end tests (C API, CLI, GIMP batch mode and dialog) against that install,
# then the training tests where PyTorch is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

swift test -c release -Xswiftc -enable-testing

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export DENOISE_PREFIX="$tmp/prefix" GIMP2_DIRECTORY="$tmp/gimp"
./install.sh --prefix "$DENOISE_PREFIX" --no-deps
python3 -m pytest -q Tests/integration

if python3 -c "import torch" 2>/dev/null; then
    python3 -m pytest -q Training/tests
else
    echo "PyTorch not installed: skipping Training/tests"
fi
