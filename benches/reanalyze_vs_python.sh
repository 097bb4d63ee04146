#!/usr/bin/env bash
# End-to-end harness: `xl reanalyze` images/s on ONE core against the Python reference with the
# same models, in the same run, as a ratio. Both include JPEG decoding and every plate read;
# `xl` also includes process start-up and model loading (about 0.3 s), so more rounds favour it less.
# Usage: benches/reanalyze_vs_python.sh [ROUNDS]   (needs `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-4}
DATA=${XL_PLATES_DEV:-../shared/data/plates-dev}/ccpd/images
XL=./target/release/xl
VENV=.cache/refvenv
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$PWD/.cache/lib/libonnxruntime.so.1.22.1}
[ -x "$XL" ] || { echo "build first: make build" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r benches/reference/requirements.txt
fi
images=$(( ROUNDS * $(ls "$DATA" | wc -l) ))
args=(); for _ in $(seq "$ROUNDS"); do args+=("$DATA"); done
start=$(date +%s.%N)
taskset -c 0 "$XL" reanalyze --pipeline pipelines/plates.toml --out /dev/null "${args[@]}" 2>/dev/null
end=$(date +%s.%N)
rust=$(python3 -c "print(f'{$images / ($end - $start):.2f}')")
py_line=$(OMP_NUM_THREADS=1 taskset -c 0 "$VENV/bin/python" benches/reference/plates_reference.py \
  --models models/plates --data "$(dirname "$(dirname "$DATA")")" --end-to-end "$ROUNDS")
python=$(echo "$py_line" | awk '{print $(NF-1)}')
echo "xl reanalyze (1 core):        $rust images/s ($images images)"
echo "python reference (1 core):    $python images/s"
python3 -c "print(f'ratio xl / python:            {$rust / $python:.2f}')"
