#!/usr/bin/env bash
# End-to-end harness: `xl reanalyze` images/s on ONE core on the 27 CCPD photographs against the
# Python reference with the same models (benches/reference/plates_hyperlpr3_reference.py), in the
# same run, as a ratio. Both include JPEG decoding and every plate read; `xl` also includes process
# start-up and model loading (about 0.3 s), so more rounds favour it less.
# Usage: benches/reanalyze_vs_python.sh [ROUNDS]   (needs `make build`)
# XL_BASELINE=BINARY XL_BASELINE_PIPELINE=FILE also times another build (e.g. an earlier commit
# with its own models) in the same run.
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
rate() { # binary pipeline -> images/s on core 0
  local start end
  start=$(date +%s.%N)
  taskset -c 0 "$1" reanalyze --pipeline "$2" --out /dev/null "${args[@]}" 2>/dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'{$images / ($end - $start):.2f}')"
}
rust=$(rate "$XL" pipelines/plates.toml)
echo "xl reanalyze (1 core):        $rust images/s ($images images)"
if [ -n "${XL_BASELINE:-}" ]; then
  base=$(rate "$XL_BASELINE" "$XL_BASELINE_PIPELINE")
  echo "baseline $XL_BASELINE (1 core): $base images/s"
  python3 -c "print(f'ratio xl / baseline:          {$rust / $base:.2f}')"
fi
py_line=$(OMP_NUM_THREADS=1 taskset -c 0 "$VENV/bin/python" benches/reference/plates_hyperlpr3_reference.py \
  --models models/plates --data "$(dirname "$(dirname "$DATA")")" --end-to-end "$ROUNDS" 2>/dev/null)
python=$(echo "$py_line" | awk '{print $(NF-1)}')
echo "python reference (1 core):    $python images/s"
python3 -c "print(f'ratio xl / python:            {$rust / $python:.2f}')"
