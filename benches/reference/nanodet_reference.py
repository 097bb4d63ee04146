#!/usr/bin/env python3
"""Python reference for the NanoDet COCO vehicle detector (models/vehicles/nanodet_coco_416.onnx):
pre-processing, distribution-focal box decoding and per-class NMS, as models/vehicles/README.md
specifies them.

    python3 benches/reference/nanodet_reference.py IMAGE...

prints one JSON line per image:
    {"image": PATH, "width": W, "height": H, "infer_ms": T,
     "detections": [{"class": "car", "class_id": 2, "score": 0.61, "x1": .., "y1": .., "x2": .., "y2": ..}]}
with boxes in the original image's pixels (x2/y2 exclusive edges, clipped to the image), best score
first. Needs numpy, onnxruntime, and Pillow or OpenCV (only to decode the file; resizing is done here,
so both give the same input). Uses 1 intra-op thread unless --threads says otherwise.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

try:
    from PIL import Image
except ImportError:  # the plates reference venv has OpenCV instead
    Image = None
    import cv2

SIZE = 416
STRIDES = (8, 16, 32)
BINS = 11  # reg_max 10: each side is a distribution over 0..10 strides
# Upstream NanoDet normalisation (channel order B, G, R).
MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)
COCO = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
]
VEHICLES = {2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


def load_rgb(path):
    """The file as an RGB u8 array (H, W, 3)."""
    if Image is not None:
        return np.asarray(Image.open(path).convert("RGB"))
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read image {path}")
    return np.ascontiguousarray(bgr[..., ::-1])


def session(path, threads=1):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def resize_bilinear(rgb, out_w, out_h):
    """Plain bilinear interpolation, half-pixel centres, edge clamp, no antialiasing
    (what OpenCV INTER_LINEAR and fast_image_resize's Interpolation(Bilinear) do), rounded to u8."""
    h, w = rgb.shape[:2]
    if (w, h) == (out_w, out_h):
        return rgb.copy()

    def axis(n_out, n_in):
        src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        src = np.clip(src, 0, n_in - 1)
        i0 = np.floor(src).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (src - i0).astype(np.float32)

    y0, y1, fy = axis(out_h, h)
    x0, x1, fx = axis(out_w, w)
    img = rgb.astype(np.float32)
    top = img[y0][:, x0] * (1 - fx)[None, :, None] + img[y0][:, x1] * fx[None, :, None]
    bot = img[y1][:, x0] * (1 - fx)[None, :, None] + img[y1][:, x1] * fx[None, :, None]
    out = top * (1 - fy)[:, None, None] + bot * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def preprocess(rgb, mode="stretch"):
    """RGB u8 HxWx3 -> (input [1,3,416,416] float32, sx, sy, dx, dy) where an input-pixel x maps back
    to (x - dx) / sx in the image (likewise y)."""
    h, w = rgb.shape[:2]
    if mode == "stretch":
        canvas = resize_bilinear(rgb, SIZE, SIZE)
        sx, sy, dx, dy = SIZE / w, SIZE / h, 0.0, 0.0
    elif mode == "letterbox":
        s = min(SIZE / w, SIZE / h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        dx, dy = (SIZE - nw) // 2, (SIZE - nh) // 2
        # Pad with the mean colour, i.e. 0 after normalisation.
        canvas = np.empty((SIZE, SIZE, 3), np.uint8)
        canvas[:] = np.rint(MEAN_BGR[::-1]).astype(np.uint8)
        canvas[dy:dy + nh, dx:dx + nw] = resize_bilinear(rgb, nw, nh)
        sx, sy = nw / w, nh / h
    else:
        raise ValueError(mode)
    bgr = canvas[..., ::-1].astype(np.float32)
    x = ((bgr - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(x, np.float32), sx, sy, float(dx), float(dy)


def levels(outputs):
    """Pairs the six outputs per stride by shape: scores [1,N,80], boxes [1,N,44], N=(416/stride)^2."""
    by_shape = {arr.shape[1:]: arr[0] for arr in outputs}
    out = []
    for stride in STRIDES:
        n = (SIZE // stride) ** 2
        out.append((stride, by_shape[(n, len(COCO))], by_shape[(n, 4 * BINS)]))
    return out


def decode(levs, score_thr=0.3):
    """Candidate boxes in model-input pixels: every (cell, class) whose score > score_thr."""
    boxes, scores, classes = [], [], []
    proj = np.arange(BINS, dtype=np.float32)
    for stride, cls, reg in levs:
        side = SIZE // stride
        cell, c = np.nonzero(cls > score_thr)
        if cell.size == 0:
            continue
        logits = reg[cell].reshape(-1, 4, BINS)
        logits = logits - logits.max(-1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(-1, keepdims=True)
        dist = (p * proj).sum(-1) * stride  # left, top, right, bottom
        row, col = cell // side, cell % side
        cx, cy = (col + 0.5) * stride, (row + 0.5) * stride
        b = np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], 1)
        boxes.append(np.clip(b, 0, SIZE))
        scores.append(cls[cell, c])
        classes.append(c)
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(classes)


def nms(boxes, scores, iou):
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        ovr = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = rest[ovr <= iou]
    return keep


def detect(sess, rgb, score_thr=0.3, iou=0.6, mode="stretch", agnostic=False, classes=None):
    h, w = rgb.shape[:2]
    x, sx, sy, dx, dy = preprocess(rgb, mode)
    t0 = time.perf_counter()
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    infer_ms = (time.perf_counter() - t0) * 1000
    boxes, scores, cls = decode(levels(outs), score_thr)
    if classes is not None:
        m = np.isin(cls, list(classes))
        boxes, scores, cls = boxes[m], scores[m], cls[m]
    keep = []
    groups = [None] if agnostic else np.unique(cls)
    for g in groups:
        idx = np.arange(len(cls)) if g is None else np.nonzero(cls == g)[0]
        keep.extend(idx[k] for k in nms(boxes[idx], scores[idx], iou))
    keep.sort(key=lambda k: -scores[k])
    dets = []
    for k in keep:
        x1, y1, x2, y2 = boxes[k]
        dets.append({
            "class": COCO[cls[k]],
            "class_id": int(cls[k]),
            "score": round(float(scores[k]), 4),
            "x1": round(float(np.clip((x1 - dx) / sx, 0, w)), 1),
            "y1": round(float(np.clip((y1 - dy) / sy, 0, h)), 1),
            "x2": round(float(np.clip((x2 - dx) / sx, 0, w)), 1),
            "y2": round(float(np.clip((y2 - dy) / sy, 0, h)), 1),
        })
    return dets, infer_ms


def main():
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="+")
    ap.add_argument("--model", default=str(repo / "models/vehicles/nanodet_coco_416.onnx"))
    ap.add_argument("--score", type=float, default=0.3, help="class score threshold (default 0.3)")
    ap.add_argument("--iou", type=float, default=0.6, help="NMS IoU threshold (default 0.6)")
    ap.add_argument("--resize", choices=["stretch", "letterbox"], default="stretch")
    ap.add_argument("--agnostic", action="store_true", help="one NMS across classes instead of per class")
    ap.add_argument("--vehicles", action="store_true", help="keep only car, motorcycle, bus, truck")
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (default 1)")
    args = ap.parse_args()
    sess = session(args.model, args.threads)
    for path in args.images:
        rgb = load_rgb(path)
        dets, ms = detect(sess, rgb, args.score, args.iou, args.resize, args.agnostic,
                          VEHICLES if args.vehicles else None)
        print(json.dumps({"image": path, "width": rgb.shape[1], "height": rgb.shape[0],
                          "infer_ms": round(ms, 1), "detections": dets}, ensure_ascii=False))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
