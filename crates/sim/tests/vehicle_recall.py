#!/usr/bin/env python3
"""How well the COCO NanoDet (models/vehicles) sees the simulator's vehicles.

1. Dump frames (see crates/sim/src/vehicle_dump.rs; ~1.5 min for these 24 cameras):
     XL_SIM_DUMP_DIR=/tmp/vdump XL_SIM_DUMP_SEEDS=1,2,3,4,5,6 XL_SIM_DUMP_CAMS=4 \
       cargo test -p xl-sim --lib vehicle_dump::dump_vehicle_frames -- --ignored --nocapture
   (XL_SIM_DUMP_CLASSES=bus,truck XL_SIM_DUMP_ELIGIBLE=plate picks frames for the big vehicles by
   plate position instead: few of them ever have their whole body box inside the frame.)
2. Score them with the Python reference detector (~1 min):
     .cache/refvenv/bin/python crates/sim/tests/vehicle_recall.py /tmp/vdump [--json out.json]
       [--eligible body|drawn] [--resize stretch|letterbox]

Detections: stretch pre-processing (as the product), candidates >= 0.05, class-agnostic NMS 0.6
over car, motorcycle, bus, truck. A vehicle counts as found at threshold t when a detection of
score >= t has IoU >= 0.5 with its drawn box (the painted body without the shadow, clipped to the
frame); its class is the class of the best such detection. Eligible vehicles: the scenario body box
(--eligible drawn: the painted box) fully inside the frame and >= 120 px tall. A false positive is a
detection >= 0.5 that overlaps no vehicle on screen (IoU < 0.3 with every drawn box and less than
half of it inside any). Prints per-class recall at 0.3/0.5, class accuracy among those found at
0.5, score quantiles, dusk recall, false positives.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benches/reference"))
import nanodet_reference as nd  # noqa: E402


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def inside_frac(d, b):
    ix = max(0.0, min(d[2], b[2]) - max(d[0], b[0]))
    iy = max(0.0, min(d[3], b[3]) - max(d[1], b[1]))
    area = (d[2] - d[0]) * (d[3] - d[1])
    return ix * iy / area if area > 0 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--json", help="write per-vehicle results here")
    ap.add_argument("--limit", type=int, default=0, help="only the first N frames")
    ap.add_argument("--eligible", choices=["body", "drawn"], default="body",
                    help="which box must be fully inside the frame and >= 120 px tall: the scenario's "
                         "body box (default) or the painted box")
    ap.add_argument("--resize", choices=["stretch", "letterbox"], default="stretch",
                    help="pre-processing (the product stretches)")
    args = ap.parse_args()
    d = Path(args.dir)
    frames = [json.loads(l) for l in open(d / "manifest.jsonl")]
    if args.limit:
        frames = frames[: args.limit]
    sess = nd.session(REPO / "models/vehicles/nanodet_coco_416.onnx")
    rows, fps_per_frame = [], []
    for fr in frames:
        rgb = nd.load_rgb(d / fr["image"])
        dets, _ = nd.detect(sess, rgb, score_thr=0.05, iou=0.6, mode=args.resize, agnostic=True, classes=nd.VEHICLES)
        boxes = [(x["x1"], x["y1"], x["x2"], x["y2"]) for x in dets]
        W, H = fr.get("width", 1280), fr.get("height", 720)
        for v in fr["vehicles"]:
            # Detections are clipped to the frame; so is the truth box.
            v["box"] = [max(0.0, v["box"][0]), max(0.0, v["box"][1]), min(W, v["box"][2]), min(H, v["box"][3])]
            best = None
            for det, b in zip(dets, boxes):
                if iou(b, v["box"]) >= 0.5 and (best is None or det["score"] > best["score"]):
                    best = det
            rows.append({
                "image": fr["image"], "class": v["class"], "dusk": fr["dusk"],
                "eligible": v["eligible"] if args.eligible == "body" else v["eligible_drawn"],
                "pw": v["pw"], "height": v["body_box"][3] - v["body_box"][1],
                "score": best["score"] if best else 0.0, "pred": best["class"] if best else None,
            })
        fp = 0
        for det, b in zip(dets, boxes):
            if det["score"] < 0.5:
                continue
            if all(iou(b, v["box"]) < 0.3 and inside_frac(b, v["box"]) < 0.5 for v in fr["vehicles"]):
                fp += 1
        fps_per_frame.append(fp)
    el = [r for r in rows if r["eligible"]]
    print(f"{len(frames)} frames, {len(rows)} vehicle appearances, {len(el)} eligible")
    print(f"{'class':6} {'n':>4} {'rec@.3':>7} {'rec@.5':>7} {'cls@.5':>7} {'p10':>5} {'p25':>5} {'p50':>5} {'p75':>5}  predicted@.5")
    for cls in ["car", "bus", "truck", "all"]:
        rs = [r for r in el if cls == "all" or r["class"] == cls]
        if not rs:
            continue
        s = np.array([r["score"] for r in rs])
        found = [r for r in rs if r["score"] >= 0.5]
        right = sum(r["pred"] == r["class"] for r in found)
        preds = {}
        for r in found:
            preds[r["pred"]] = preds.get(r["pred"], 0) + 1
        q = np.quantile(s, [0.1, 0.25, 0.5, 0.75])
        print(f"{cls:6} {len(rs):4d} {np.mean(s >= 0.3):7.1%} {np.mean(s >= 0.5):7.1%} "
              f"{(right / len(found) if found else 0):7.1%} " + " ".join(f"{x:5.2f}" for x in q)
              + f"  {preds}")
    rs = el
    right_all = sum(r["score"] >= 0.5 and r["pred"] == r["class"] for r in rs)
    print(f"found at 0.5 with the right class: {right_all}/{len(rs)} = {right_all / max(1, len(rs)):.1%}")
    dusk = [r for r in el if r["dusk"]]
    if dusk:
        print(f"dusk eligible: {len(dusk)}, recall@.5 {np.mean([r['score'] >= 0.5 for r in dusk]):.1%}")
    ne = [r for r in rows if not r["eligible"]]
    if ne:
        print(f"not eligible (partly out of frame): {len(ne)}, found@.5 {np.mean([r['score'] >= 0.5 for r in ne]):.1%}")
    print(f"false positives >= 0.5: {sum(fps_per_frame)} in {len(frames)} frames")
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=0)


if __name__ == "__main__":
    main()
