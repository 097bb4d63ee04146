//! Plate detector (`clp_det.onnx`, RetinaFace style): pre-processing, box/landmark decoding, NMS.
use std::path::Path;
use std::sync::{Arc, Mutex};

use xl_schema::{BBox, Quad};

use crate::error::{InferError, Result};
use crate::image::{resize_rgb, RgbView};
use crate::nms::nms;
use crate::priors::{priors, Prior};
use crate::runtime::{OnnxModel, TensorOut};

const MODEL: &str = "plate_detector";
/// Per-channel means subtracted from raw 0-255 values, in the model's BGR order.
const MEAN_BGR: [f32; 3] = [104.0, 117.0, 123.0];
const VARIANCE: [f32; 2] = [0.1, 0.2];

/// Detector settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Frames larger than this on their long side are scaled down (aspect kept) before detection;
    /// smaller frames run at native size. 1280 keeps 720p whole, where small plates are found.
    pub max_side: u32,
    /// Minimum "plate" probability.
    pub score_threshold: f32,
    pub nms_iou: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            max_side: 1280,
            score_threshold: 0.5,
            nms_iou: 0.4,
        }
    }
}

/// One detected plate, in the coordinates of the frame passed to [`PlateDetector::detect`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateDetection {
    pub bbox: BBox,
    /// Corners ordered top-left, top-right, bottom-right, bottom-left.
    pub corners: Quad,
    pub score: f32,
}

/// Priors for the last input size (`(width, height)`); frames of one camera share a size.
type PriorCache = ((u32, u32), Arc<Vec<Prior>>);

/// The detector model plus its prior-box cache (priors depend only on the input size).
#[derive(Debug)]
pub struct PlateDetector {
    model: OnnxModel,
    config: DetectorConfig,
    prior_cache: Mutex<Option<PriorCache>>,
}

impl PlateDetector {
    pub fn load(path: &Path, config: DetectorConfig, intra_threads: usize) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(MODEL, path, intra_threads)?,
            config,
            prior_cache: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Detects plates in an RGB frame; results are sorted by score, best first.
    pub fn detect(&self, frame: RgbView<'_>) -> Result<Vec<PlateDetection>> {
        let (w, h) = detector_input_size(frame.width(), frame.height(), self.config.max_side);
        let input = preprocess(frame, w, h)?;
        let outs = self.model.run(
            "image",
            [1, 3, h as usize, w as usize],
            input,
            &["loc", "conf", "landms"],
        )?;
        let priors = self.priors_for(w, h);
        let [loc, conf, landms] =
            <[TensorOut; 3]>::try_from(outs).map_err(|_| InferError::BadOutput {
                model: MODEL,
                output: "loc/conf/landms".into(),
                reason: "expected three outputs".into(),
            })?;
        check_rows(&loc, "loc", priors.len(), 4)?;
        check_rows(&conf, "conf", priors.len(), 2)?;
        check_rows(&landms, "landms", priors.len(), 8)?;
        let sx = frame.width() as f32 / w as f32;
        let sy = frame.height() as f32 / h as f32;
        Ok(decode(
            &priors,
            &RawDetections {
                loc: &loc.data,
                conf: &conf.data,
                landms: &landms.data,
            },
            (w, h),
            &self.config,
        )
        .into_iter()
        .map(|d| scale_detection(d, sx, sy))
        .collect())
    }

    fn priors_for(&self, w: u32, h: u32) -> Arc<Vec<Prior>> {
        let mut cache = self.prior_cache.lock().unwrap_or_else(|p| p.into_inner());
        match cache.as_ref() {
            Some((size, p)) if *size == (w, h) => p.clone(),
            _ => {
                let p = Arc::new(priors(w, h));
                *cache = Some(((w, h), p.clone()));
                p
            }
        }
    }
}

fn check_rows(t: &TensorOut, name: &str, rows: usize, cols: usize) -> Result<()> {
    if t.data.len() != rows * cols {
        return Err(InferError::BadOutput {
            model: MODEL,
            output: name.to_string(),
            reason: format!("shape {:?}, expected [1, {rows}, {cols}]", t.shape),
        });
    }
    Ok(())
}

/// The size the detector runs at: the frame scaled to fit `max_side` (never up), rounded.
pub fn detector_input_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_side || max_side == 0 {
        return (width, height);
    }
    let s = max_side as f32 / long as f32;
    (
        ((width as f32 * s).round() as u32).max(1),
        ((height as f32 * s).round() as u32).max(1),
    )
}

/// NCHW float input: BGR planes of raw values minus the channel means.
pub fn preprocess(frame: RgbView<'_>, width: u32, height: u32) -> Result<Vec<f32>> {
    let resized = resize_rgb(frame, width, height)?;
    let plane = (width * height) as usize;
    let mut out = vec![0f32; plane * 3];
    let (b, rest) = out.split_at_mut(plane);
    let (g, r) = rest.split_at_mut(plane);
    for (i, px) in resized.data.chunks_exact(3).enumerate() {
        b[i] = px[2] as f32 - MEAN_BGR[0];
        g[i] = px[1] as f32 - MEAN_BGR[1];
        r[i] = px[0] as f32 - MEAN_BGR[2];
    }
    Ok(out)
}

/// The detector's three outputs, flattened row-major, one row per prior.
#[derive(Debug, Clone, Copy)]
pub struct RawDetections<'a> {
    pub loc: &'a [f32],
    pub conf: &'a [f32],
    pub landms: &'a [f32],
}

/// Decodes boxes and landmarks (SSD variances) above the score threshold and applies NMS.
/// Coordinates are in pixels of the detector input of size `input`.
pub fn decode(
    priors: &[Prior],
    raw: &RawDetections<'_>,
    input: (u32, u32),
    config: &DetectorConfig,
) -> Vec<PlateDetection> {
    let (w, h) = (input.0 as f32, input.1 as f32);
    let mut found: Vec<PlateDetection> = Vec::new();
    for (i, p) in priors.iter().enumerate() {
        let score = raw.conf[i * 2 + 1];
        if score <= config.score_threshold {
            continue;
        }
        let l = &raw.loc[i * 4..i * 4 + 4];
        let cx = p.cx + l[0] * VARIANCE[0] * p.w;
        let cy = p.cy + l[1] * VARIANCE[0] * p.h;
        let bw = p.w * (l[2] * VARIANCE[1]).exp();
        let bh = p.h * (l[3] * VARIANCE[1]).exp();
        let bbox = BBox::new(
            (cx - bw / 2.0) * w,
            (cy - bh / 2.0) * h,
            (cx + bw / 2.0) * w,
            (cy + bh / 2.0) * h,
        );
        let m = &raw.landms[i * 8..i * 8 + 8];
        let pt = |k: usize| {
            [
                (p.cx + m[2 * k] * VARIANCE[0] * p.w) * w,
                (p.cy + m[2 * k + 1] * VARIANCE[0] * p.h) * h,
            ]
        };
        // The model's landmark order is bottom-right, bottom-left, top-left, top-right.
        let corners = Quad([pt(2), pt(3), pt(0), pt(1)]);
        found.push(PlateDetection {
            bbox,
            corners,
            score,
        });
    }
    let boxes: Vec<BBox> = found.iter().map(|d| d.bbox).collect();
    let scores: Vec<f32> = found.iter().map(|d| d.score).collect();
    nms(&boxes, &scores, config.nms_iou)
        .into_iter()
        .map(|i| found[i])
        .collect()
}

fn scale_detection(d: PlateDetection, sx: f32, sy: f32) -> PlateDetection {
    let s = |p: [f32; 2]| [p[0] * sx, p[1] * sy];
    PlateDetection {
        bbox: BBox::new(
            d.bbox.x1 * sx,
            d.bbox.y1 * sy,
            d.bbox.x2 * sx,
            d.bbox.y2 * sy,
        ),
        corners: d.corners.map(s),
        score: d.score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_fits_long_side_and_never_upscales() {
        assert_eq!(detector_input_size(1920, 1080, 1280), (1280, 720));
        assert_eq!(detector_input_size(720, 1160, 1280), (720, 1160));
        assert_eq!(detector_input_size(720, 1160, 640), (397, 640));
    }

    #[test]
    fn preprocess_is_bgr_minus_means() {
        let data = [200u8, 100, 50];
        let out = preprocess(RgbView::new(1, 1, &data).unwrap(), 1, 1).unwrap();
        assert_eq!(out, vec![50.0 - 104.0, 100.0 - 117.0, 200.0 - 123.0]);
    }

    #[test]
    fn decode_applies_variances_landmark_order_and_threshold() {
        let pri = [
            Prior {
                cx: 0.5,
                cy: 0.5,
                w: 0.2,
                h: 0.1,
            },
            Prior {
                cx: 0.25,
                cy: 0.25,
                w: 0.2,
                h: 0.1,
            },
        ];
        // Prior 0: shifted right by 1 variance unit, width doubled; prior 1 below threshold.
        let loc = [1.0, 0.0, 2f32.ln() / 0.2, 0.0, 0.0, 0.0, 0.0, 0.0];
        let conf = [0.1, 0.9, 0.8, 0.2];
        // Landmarks BR, BL, TL, TR as offsets in variance units of the prior size.
        let lm = [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0];
        let landms: Vec<f32> = lm.iter().chain(lm.iter()).copied().collect();
        let raw = RawDetections {
            loc: &loc,
            conf: &conf,
            landms: &landms,
        };
        let dets = decode(&pri, &raw, (100, 200), &DetectorConfig::default());
        assert_eq!(dets.len(), 1);
        let d = dets[0];
        assert!((d.score - 0.9).abs() < 1e-6);
        // cx = 0.5 + 0.1*0.2 = 0.52 -> 52 px; width 0.4 -> 40 px; height 0.1*200 = 20 px.
        let b = d.bbox;
        assert!((b.x1 - 32.0).abs() < 1e-3 && (b.x2 - 72.0).abs() < 1e-3);
        assert!((b.y1 - 90.0).abs() < 1e-3 && (b.y2 - 110.0).abs() < 1e-3);
        // TL = (0.5 - 0.02, 0.5 - 0.01) * (100, 200) = (48, 98); BR = (52, 102).
        let q = d.corners.0;
        assert!((q[0][0] - 48.0).abs() < 1e-3 && (q[0][1] - 98.0).abs() < 1e-3);
        assert!((q[1][0] - 52.0).abs() < 1e-3 && (q[1][1] - 98.0).abs() < 1e-3);
        assert!((q[2][0] - 52.0).abs() < 1e-3 && (q[2][1] - 102.0).abs() < 1e-3);
        assert!((q[3][0] - 48.0).abs() < 1e-3 && (q[3][1] - 102.0).abs() < 1e-3);
    }
}
