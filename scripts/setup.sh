#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian packages, the ONNX Runtime library and the plate
# recogniser, each pinned by version and verified by sha256 into .cache/ (git-ignored), and the
# browser tests' npm packages from their lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=.cache
mkdir -p "$CACHE/wheels" "$CACHE/lib" models/plates

APT_PACKAGES=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools fonts-noto-cjk fonts-wqy-zenhei fonts-dejavu-extra
  ffmpeg pkg-config unzip python3-venv chromium)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm come with the machine (its nodejs package bundles npm, which conflicts with
# Debian's separate npm package); only a machine without them gets Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# name version sha256-of-wheel pip-extra-args
fetch_wheel() {
  local name=$1 version=$2 sha=$3; shift 3
  local dir="$CACHE/wheels/$name-$version"
  if [ -f "$dir/.ok" ]; then return 0; fi
  rm -rf "$dir"; mkdir -p "$dir"
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$@" -d "$dir" "$name==$version"
  local whl; whl=$(ls "$dir"/*.whl)
  echo "$sha  $whl" | sha256sum -c --quiet - || { echo "setup: sha256 mismatch for $whl" >&2; exit 1; }
  touch "$dir/.ok"
}

ORT_VERSION=1.22.1
ORT_WHEEL_SHA=f6effa1299ac549a05c784d50292e3378dbbf010346ded67400193b09ddc2f04
ORT_LIB_SHA=ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc
fetch_wheel onnxruntime "$ORT_VERSION" "$ORT_WHEEL_SHA" \
  --python-version 311 --platform manylinux_2_28_x86_64 --implementation cp --abi cp311
ORT_LIB="$CACHE/lib/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$ORT_LIB" ] || ! echo "$ORT_LIB_SHA  $ORT_LIB" | sha256sum -c --quiet - 2>/dev/null; then
  unzip -q -o -j "$CACHE/wheels/onnxruntime-$ORT_VERSION"/*.whl \
    "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$CACHE/lib"
  echo "$ORT_LIB_SHA  $ORT_LIB" | sha256sum -c --quiet - || { echo "setup: sha256 mismatch for $ORT_LIB" >&2; exit 1; }
fi

# The plate recogniser: PaddleOCR's PP-OCRv4 text recogniser inside the pinned rapidocr wheel
# (Apache-2.0). The HyperLPR3 plate detectors are committed (no registry has them); all are
# verified against models/plates/SHA256SUMS (committed).
RAPIDOCR_VERSION=1.4.4
RAPIDOCR_WHEEL_SHA=971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf
REC_MODEL=ch_PP-OCRv4_rec_infer.onnx
if [ ! -f "models/plates/$REC_MODEL" ] || ! (cd models/plates && grep " $REC_MODEL\$" SHA256SUMS | sha256sum -c --quiet - 2>/dev/null); then
  fetch_wheel rapidocr-onnxruntime "$RAPIDOCR_VERSION" "$RAPIDOCR_WHEEL_SHA"
  unzip -q -o -j "$CACHE/wheels/rapidocr-onnxruntime-$RAPIDOCR_VERSION"/*.whl \
    "rapidocr_onnxruntime/models/$REC_MODEL" -d models/plates
fi
(cd models/plates && sha256sum -c --quiet SHA256SUMS) || { echo "setup: plate model sha256 mismatch (git lfs or a partial checkout?)" >&2; exit 1; }
# The vehicle detector is committed (converted once, see models/vehicles/README.md); check it.
(cd models/vehicles && sha256sum -c --quiet SHA256SUMS) || { echo "setup: vehicle model sha256 mismatch (git lfs or a partial checkout?)" >&2; exit 1; }
# moto's S3-compatible server (moto_server) for the S3 object-store tests, every package pinned by
# hash in scripts/s3-test-requirements.txt; .ok holds that file's sha256, so editing it reinstalls.
S3_VENV="$CACHE/venv-s3"
S3_REQS=scripts/s3-test-requirements.txt
s3_reqs_sha=$(sha256sum "$S3_REQS" | cut -d' ' -f1)
if [ "$(cat "$S3_VENV/.ok" 2>/dev/null)" != "$s3_reqs_sha" ] || [ ! -x "$S3_VENV/bin/moto_server" ]; then
  echo "setup: installing moto_server into $S3_VENV"
  rm -rf "$S3_VENV"
  python3 -m venv "$S3_VENV"
  "$S3_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --only-binary=:all: -r "$S3_REQS"
  echo "$s3_reqs_sha" > "$S3_VENV/.ok"
fi
# The command view's browser tests: playwright-core (no browser download: it drives Debian's
# Chromium) installed from the committed lock file; .ok holds the lock's sha256.
BROWSER_TESTS=tests/browser
lock_sha=$(sha256sum "$BROWSER_TESTS/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$BROWSER_TESTS/node_modules/.ok" 2>/dev/null)" != "$lock_sha" ]; then
  echo "setup: installing browser test packages into $BROWSER_TESTS/node_modules"
  (cd "$BROWSER_TESTS" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  echo "$lock_sha" > "$BROWSER_TESTS/node_modules/.ok"
fi
echo "setup: ok (ORT $ORT_VERSION at $ORT_LIB, plate models in models/plates, moto_server in $S3_VENV, Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
