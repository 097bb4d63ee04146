#!/usr/bin/env python3
"""Python reference for the plate models, as /work/shared/MODELS.md describes them:
detection -> four-corner perspective warp -> character band -> recogniser, greedy CTC.

Prints accuracy and time on plates-dev (ccpd scenes, recogniser alone on crops) so that
`cargo bench -p xl-benches --bench plate_models` can put the Rust figures next to it.
Requirements: benches/reference/requirements.txt.
"""
import argparse
import csv
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

STEPS = [(8, (24, 48)), (16, (96, 192)), (32, (384, 768))]
TEMPLATE = np.float32([[0, 0], [440, 0], [440, 140], [0, 140]])


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def priors(h, w):
    out = []
    for step, sizes in STEPS:
        for i in range(math.ceil(h / step)):
            for j in range(math.ceil(w / step)):
                for m in sizes:
                    out.append([(j + 0.5) * step / w, (i + 0.5) * step / h, m / w, m / h])
    return np.float32(out)


def nms(boxes, scores, iou):
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
        ovr = inter / (area(boxes[i]) + area(boxes[order[1:]]) - inter)
        order = order[1:][ovr <= iou]
    return keep


def detect(sess, bgr, thr=0.7, iou=0.4):
    h, w = bgr.shape[:2]
    x = (bgr.astype(np.float32) - np.float32([104, 117, 123])).transpose(2, 0, 1)[None]
    loc, conf, landms = [o[0] for o in sess.run(["loc", "conf", "landms"], {"image": x})]
    p = priors(h, w)
    cxcy = p[:, :2] + loc[:, :2] * 0.1 * p[:, 2:]
    wh = p[:, 2:] * np.exp(loc[:, 2:] * 0.2)
    boxes = np.concatenate([cxcy - wh / 2, cxcy + wh / 2], 1) * [w, h, w, h]
    lm = np.concatenate([p[:, :2] + landms[:, 2 * k:2 * k + 2] * 0.1 * p[:, 2:] for k in range(4)], 1)
    lm = lm * np.float32([w, h] * 4)
    scores = conf[:, 1]
    m = scores > thr
    boxes, lm, scores = boxes[m], lm[m], scores[m]
    keep = nms(boxes, scores, iou)
    # Landmarks are BR, BL, TL, TR; return TL, TR, BR, BL.
    return [(scores[i], lm[i].reshape(4, 2)[[2, 3, 0, 1]]) for i in keep]


def band(bgr, corners):
    m = cv2.getPerspectiveTransform(np.float32(corners), TEMPLATE)
    return cv2.warpPerspective(bgr, m, (440, 140))[25:115, 12:428]


def recognise(sess, chars, bgr):
    h, w = bgr.shape[:2]
    r = cv2.resize(bgr, (math.ceil(32 * w / h), 32))
    x = ((r.astype(np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    probs = sess.run(None, {"x": x})[0][0]
    best = probs.argmax(1)
    out, prev = [], 0
    for c in best:
        if c != 0 and c != prev:
            out.append(chars[c - 1])
        prev = c
    return "".join(out)


def match(a, b):
    return a.replace("O", "0") == b.replace("O", "0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--golden", type=Path, help="write each ccpd scene's detections and reads as JSON")
    ap.add_argument("--end-to-end", type=int, metavar="ROUNDS",
                    help="time ROUNDS passes over ccpd/images including JPEG decoding, as `xl reanalyze` "
                         "does, print images/s and exit")
    args = ap.parse_args()
    det = session(args.models / "clp_det.onnx")
    rec = session(args.models / "clp_v2_c_rec.onnx")
    chars = [l.rstrip("\n") for l in open(args.models / "clp_dict.txt", encoding="utf-8") if l.strip()]

    def load(folder, row):
        return cv2.imdecode(np.fromfile(str(args.data / folder / row["file"]), np.uint8), cv2.IMREAD_COLOR)

    rows = list(csv.DictReader(open(args.data / "ccpd/truth.csv", encoding="utf-8")))
    if args.end_to_end:
        start = time.perf_counter()
        for _ in range(args.end_to_end):
            for row in rows:
                bgr = load("ccpd", row)
                for _, corners in detect(det, bgr):
                    recognise(rec, chars, band(bgr, corners))
        secs = time.perf_counter() - start
        print(f"python reference end-to-end: {args.end_to_end * len(rows) / secs:.2f} images/s")
        return
    # Images are decoded before the clock starts, as in the Rust bench.
    images = [load("ccpd", row) for row in rows]
    exact = found = 0
    golden = []
    start = time.perf_counter()
    for row, bgr in zip(rows, images):
        dets = detect(det, bgr)
        reads = [recognise(rec, chars, band(bgr, corners)) for _, corners in dets]
        if dets:
            found += 1
            exact += match(reads[0], row["plate"])
        golden.append({"file": row["file"], "plates": [
            {"score": float(s), "corners": c.round(3).tolist(), "text": t} for (s, c), t in zip(dets, reads)]})
    ms = (time.perf_counter() - start) * 1000 / len(rows)
    if args.golden:
        args.golden.write_text(json.dumps(golden, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"python reference ccpd: {exact}/{len(rows)} exact, {found}/{len(rows)} detected, {ms:.1f} ms/scene")

    rows = list(csv.DictReader(open(args.data / "crops/truth.csv", encoding="utf-8")))
    images = [load("crops", row) for row in rows]
    exact = 0
    start = time.perf_counter()
    for row, bgr in zip(rows, images):
        exact += match(recognise(rec, chars, bgr), row["plate"])
    ms = (time.perf_counter() - start) * 1000 / len(rows)
    print(f"python reference crops: {exact}/{len(rows)} exact, {ms:.2f} ms/plate")


if __name__ == "__main__":
    main()
