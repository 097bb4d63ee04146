"""Python reference for the plate stage: HyperLPR3 detector -> four-corner warp -> PP-OCRv4 recogniser
-> CTC decoding constrained to the plate grammar. It is the team's trial pipeline (the figures in
models/plates/README.md), kept here so the Rust port is compared with it in the same run.

  python plates_hyperlpr3_reference.py --models models/plates --data ../shared/data/plates-dev [--size 640]
  python plates_hyperlpr3_reference.py ... --json FILE      # per-scene detections and reads, for tests

Pre/post-processing follows HyperLPR3 (github.com/szad670401/HyperLPR, commit 58ad4ef,
Prj-Python/hyperlpr3/inference/multitask_detect.py, pipeline.py, classification.py) for the detector,
the double-layer split and the colour classifier, and PaddleOCR's resize_norm_img for the recogniser.
"""
import argparse
import csv
import json
import math
import os
import time

import cv2
import numpy as np
import onnxruntime as ort

PROV = "京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新"
LET = "ABCDEFGHJKLMNPQRSTUVWXYZ"
ALNUM = "0123456789" + LET
SUFFIX = "学警挂港澳领使"
PLATE_SET = set(PROV + ALNUM + "IO" + SUFFIX)


def session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


# ---- detector (multitask_detect.py) ----
def letter_box(img, size):
    h, w = img.shape[:2]
    r = min(size / h, size / w)
    nh, nw = int(h * r), int(w * r)
    top, left = (size - nh) // 2, (size - nw) // 2
    out = np.zeros((size, size, 3), np.uint8)
    out[top:top + nh, left:left + nw] = cv2.resize(img, (nw, nh))
    return out, r, left, top


def nms(boxes, scores, iou):
    order = np.argsort(scores)[::-1]
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
        ov = inter / (area(boxes[i]) + area(boxes[order[1:]]) - inter)
        order = order[1:][ov <= iou]
    return keep


def detect(det, img, size, conf=0.5, iou=0.5):
    """Plates best first: (score, corners TL,TR,BR,BL in image pixels, layer 0 single / 1 double)."""
    lb, r, left, top = letter_box(img, size)
    x = (lb[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255)[None]
    d = det.run(None, {det.get_inputs()[0].name: x})[0][0]
    d = d[d[:, 4] > conf]
    if len(d) == 0:
        return []
    cls = d[:, 13:15] * d[:, 4:5]
    score = cls.max(1)
    d, cls, score = d[score > conf], cls[score > conf], score[score > conf]
    boxes = np.stack([d[:, 0] - d[:, 2] / 2, d[:, 1] - d[:, 3] / 2, d[:, 0] + d[:, 2] / 2, d[:, 1] + d[:, 3] / 2], 1)
    out = []
    for i in nms(boxes, score, iou):
        lm = d[i, 5:13].reshape(4, 2).copy()
        lm[:, 0] -= left
        lm[:, 1] -= top
        lm /= r
        out.append((float(score[i]), lm, int(np.argmax(cls[i]))))
    return out


# ---- warp and recogniser ----
def warp(img, quad, W, H, mx=0.04, my=0.08):
    c = quad.mean(0)
    q = c + (quad - c) * np.float32([1 + mx, 1 + my])
    dst = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    M = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
    return cv2.warpPerspective(img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def rec_probs(rec, img):
    h, w = img.shape[:2]
    rw = int(math.ceil(48 * w / h))
    W = max(rw, 160)
    x = np.zeros((1, 3, 48, W), np.float32)
    x[0, :, :, :rw] = ((cv2.resize(img, (rw, 48)).astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return rec.run(None, {rec.get_inputs()[0].name: x})[0][0]


def read_plate(rec, chars, img, quad, layer):
    if layer == 1:
        p = warp(img, quad, 160, 80)
        line = int(80 * 0.4)
        prob = np.concatenate([rec_probs(rec, p[:line]), rec_probs(rec, p[line:])])
    else:
        prob = rec_probs(rec, warp(img, quad, 160, 50))
    return decode_grammar(prob, chars)


# ---- grammar-constrained CTC (the trial's gram.py, templates v2) ----
def viterbi(logp, chars, tmpl):
    T, K = logp.shape[0], len(tmpl)
    idx = {c: i for i, c in enumerate(chars)}
    sets = [np.array([idx[c] for c in s if c in idx]) for s in tmpl]
    NEG = -1e9
    ch = [np.full(len(s), NEG) for s in sets]
    chb = [[None] * len(s) for s in sets]
    bl = np.full(K + 1, NEG)
    blb = [None] * (K + 1)
    bl[0] = logp[0, 0]
    blb[0] = ()
    ch[0] = logp[0, sets[0]].copy()
    chb[0] = [(int(c),) for c in sets[0]]
    for t in range(1, T):
        nch, nchb, nbl, nblb = [None] * K, [None] * K, np.full(K + 1, NEG), [None] * (K + 1)
        for k in range(K + 1):
            best, bp = bl[k], blb[k]
            if k > 0:
                j = int(np.argmax(ch[k - 1]))
                if ch[k - 1][j] > best:
                    best, bp = ch[k - 1][j], chb[k - 1][j]
            nbl[k], nblb[k] = best + logp[t, 0], bp
        for k in range(K):
            s, stay = sets[k], ch[k]
            new, newb = np.full(len(s), NEG), list(chb[k])
            fb = bl[k]
            if k > 0:
                prev = ch[k - 1]
                order = np.argsort(prev)[::-1][:2]
            for i, c in enumerate(s):
                cand = [(stay[i], chb[k][i])]
                if fb > NEG / 2 and blb[k] is not None:
                    cand.append((fb, blb[k] + (int(c),)))
                if k > 0:
                    for j in order:
                        if sets[k - 1][j] != c and chb[k - 1][j] is not None:
                            cand.append((prev[j], chb[k - 1][j] + (int(c),)))
                            break
                sc, b = max(cand, key=lambda z: z[0])
                new[i], newb[i] = sc + logp[t, c], b
            nch[k], nchb[k] = new, newb
        ch, chb, bl, blb = nch, nchb, nbl, nblb
    best, bp = bl[K], blb[K]
    j = int(np.argmax(ch[K - 1]))
    if ch[K - 1][j] > best:
        best, bp = ch[K - 1][j], chb[K - 1][j]
    return best, "".join(chars[i] for i in bp) if bp else ""


def decode_grammar(prob, chars, margin=2.0):
    logp = np.log(np.maximum(prob, 1e-12))
    L = LET + "O"
    s7, r7 = viterbi(logp, chars, [PROV, L] + [ALNUM] * 4 + [ALNUM + SUFFIX])
    s8, r8 = viterbi(logp, chars, [PROV, L] + [ALNUM] * 6)
    return r8 if s8 > s7 + margin else r7


def norm(s):
    return "".join(ch for ch in s if ch in PLATE_SET).replace("O", "0")


# ---- colour (classification.py: BGR /255 at 96x96 of the natural-size warp) ----
def natural_crop(img, quad):
    w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    M = cv2.getPerspectiveTransform(quad.astype(np.float32), np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    return cv2.warpPerspective(img, M, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)


def colour(cls, img):
    x = (cv2.resize(img, (96, 96)) / 255.0).transpose(2, 0, 1).astype(np.float32)[None]
    return ["blue", "green", "yellow"][int(np.argmax(cls.run(None, {cls.get_inputs()[0].name: x})[0][0]))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models/plates")
    ap.add_argument("--data", default="../shared/data/plates-dev")
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--classifier", help="litemodel_cls_96x_r1.onnx, to score the colour classifier")
    ap.add_argument("--json", help="write per-scene detections and reads here")
    ap.add_argument("--end-to-end", type=int, metavar="ROUNDS",
                    help="only time JPEG decoding + detection + reading of every ccpd image ROUNDS times")
    a = ap.parse_args()
    det = session(os.path.join(a.models, f"y5fu_{a.size}x_sim.onnx"))
    rec = session(os.path.join(a.models, "ch_PP-OCRv4_rec_infer.onnx"))
    chars = ["blank"] + rec.get_modelmeta().custom_metadata_map["character"].splitlines() + [" "]
    cls = session(a.classifier) if a.classifier else None
    root = os.path.join(a.data, "ccpd")
    rows = list(csv.DictReader(open(os.path.join(root, "truth.csv"), encoding="utf-8")))
    if a.end_to_end:
        t0, n = time.perf_counter(), 0
        for _ in range(a.end_to_end):
            for r in rows:
                img = cv2.imdecode(np.fromfile(os.path.join(root, r["file"]), np.uint8), cv2.IMREAD_COLOR)
                for _, lm, layer in detect(det, img, a.size):
                    read_plate(rec, chars, img, lm, layer)
                n += 1
        print(f"end-to-end: {n / (time.perf_counter() - t0):.2f} images/s")
        return
    n = ok = found = colour_ok = 0
    t_all = 0.0
    golden, misses = [], []
    for r in rows:
        img = cv2.imdecode(np.fromfile(os.path.join(root, r["file"]), np.uint8), cv2.IMREAD_COLOR)
        t0 = time.process_time()
        dets = detect(det, img, a.size)
        reads = [norm(read_plate(rec, chars, img, lm, layer)) for _, lm, layer in dets]
        t_all += time.process_time() - t0
        n += 1
        golden.append({"file": r["file"], "plates": [
            {"score": s, "corners": lm.tolist(), "double": layer == 1, "text": t} for (s, lm, layer), t in zip(dets, reads)]})
        if not dets:
            misses.append((r["plate"], "no plate"))
            continue
        found += 1
        if reads[0] == norm(r["plate"]):
            ok += 1
        else:
            misses.append((r["plate"], reads[0]))
        if cls is not None:
            want = "green" if len(r["plate"]) == 8 else "blue"
            colour_ok += colour(cls, natural_crop(img, dets[0][1])) == want
    print(f"ccpd y5fu_{a.size}: scenes {n}, detected {found}, exact {ok}, {1000 * t_all / n:.1f} ms CPU per image")
    if misses:
        print("  misses:", misses)
    croot = os.path.join(a.data, "crops")
    crows = list(csv.DictReader(open(os.path.join(croot, "truth.csv"), encoding="utf-8")))
    cok = ccol = 0
    t_rec = 0.0
    for r in crows:
        img = cv2.imdecode(np.fromfile(os.path.join(croot, r["file"]), np.uint8), cv2.IMREAD_COLOR)
        t0 = time.process_time()
        text = norm(decode_grammar(rec_probs(rec, img), chars))
        t_rec += time.process_time() - t0
        cok += text == norm(r["plate"])
        if cls is not None:
            ccol += colour(cls, img) == "blue"
    print(f"crops: {len(crows)}, exact {cok}, {1000 * t_rec / len(crows):.1f} ms CPU per crop (recognise + decode)")
    if cls is not None:
        print(f"colour classifier: ccpd {colour_ok}/{found}, crops blue {ccol}/{len(crows)}")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(golden, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
