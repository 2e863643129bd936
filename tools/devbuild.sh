#!/usr/bin/env bash
# Build _rawffi in place for development: src/pyctypes/_rawffi*.so, so that
# PYTHONPATH=src python -m pytest works without installing.
#   tools/devbuild.sh            normal (RelWithDebInfo) build
#   tools/devbuild.sh asan       AddressSanitizer + UBSan build (see README)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-dev}
san=OFF; [ "$kind" = asan ] && san=ON
bdir="$top/build/$kind${DEVBUILD_TAG:-}"
cmake -S "$top" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYCTYPES_SANITIZE=$san \
      -DPython_EXECUTABLE="$(command -v python3)" >/dev/null
cmake --build "$bdir"
so=$(ls "$bdir"/_rawffi*.so)
cp -f "$so" "$top/src/pyctypes/$(basename "$so").tmp$$"
mv -f "$top/src/pyctypes/$(basename "$so").tmp$$" "$top/src/pyctypes/$(basename "$so")"
echo "built $(basename "$so") ($kind)"
