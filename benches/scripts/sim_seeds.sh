#!/usr/bin/env bash
# Plate and rule accuracy on simulated footage, re-analysed from files, for several seeds:
# `xl sim --export` -> `xl reanalyze` -> `xl eval plates` + `xl eval rules` per seed.
#   benches/scripts/sim_seeds.sh OUT_DIR SECS CAMERAS SEED...      (XL: the xl binary to use)
# Writes OUT_DIR/seed-S/{plates.json,rules.txt,events.jsonl} and prints one summary line per seed.
set -euo pipefail
out=$1 secs=$2 cameras=$3; shift 3
xl=${XL:-target/release/xl}
start=2026-11-29T09:00:00+08:00
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$PWD/.cache/lib/libonnxruntime.so.1.22.1}
for seed in "$@"; do
  d="$out/seed-$seed"
  rm -rf "$d"; mkdir -p "$d"
  "$xl" sim --cameras "$cameras" --seed "$seed" --export-secs "$secs" --export-start "$start" \
    --truth "$d/truth.jsonl" --cache-dir var/sim-cache --export "$d/export" 2>"$d/export.log"
  videos=()
  for i in $(seq 1 "$cameras"); do videos+=("$d/export/cam-$i.mp4"); done
  "$xl" reanalyze --start "$start" --pipeline "$d/export/world/pipeline.toml" \
    --config "$d/export/xl.toml" --wim "$d/export/world/wim.jsonl" \
    --evidence "$d/evidence" --out "$d/events.jsonl" "${videos[@]}" 2>"$d/reanalyze.log"
  "$xl" eval plates --truth "$d/truth.jsonl" --events "$d/events.jsonl" --json "$d/plates.json" \
    > "$d/plates.txt" 2>&1
  "$xl" eval rules --truth "$d/export/world/rules-truth.jsonl" --events "$d/events.jsonl" \
    > "$d/rules.txt" 2>&1 || true
  echo "== seed $seed"
  cat "$d/plates.txt" "$d/rules.txt"
done
