//! Plate detector (HyperLPR3's `y5fu_*_sim.onnx`, YOLOv5-face style): letterbox pre-processing,
//! row decoding with four corners and the single/double-layer class, NMS, corners mapped back.
use std::path::Path;

use xl_schema::{BBox, Quad};

use crate::error::{InferError, Result};
use crate::image::{resize_rgb, RgbView};
use crate::nms::nms;
use crate::runtime::OnnxModel;

const MODEL: &str = "plate_detector";
/// Values per output row: cx, cy, w, h, objectness, 4 corners (x, y), 2 class scores.
const ROW: usize = 15;

/// Detector settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Minimum plate score: objectness times the better of the two layer-class scores.
    pub score_threshold: f32,
    pub nms_iou: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.5,
            nms_iou: 0.5,
        }
    }
}

/// How many rows of characters a plate carries: yellow rear plates of lorries and buses (and
/// trailer, coach and motorcycle plates) put the province and letter on a short top row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlateLayers {
    #[default]
    Single,
    Double,
}

/// One detected plate, in the coordinates of the frame passed to [`PlateDetector::detect`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateDetection {
    pub bbox: BBox,
    /// Corners ordered top-left, top-right, bottom-right, bottom-left.
    pub corners: Quad,
    pub score: f32,
    pub layers: PlateLayers,
}

/// Where the frame sits inside the square model input: scale, then offset of its top-left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    pub scale: f32,
    pub left: u32,
    pub top: u32,
    /// The frame's size once scaled (`int(side * scale)`, as HyperLPR3).
    pub width: u32,
    pub height: u32,
}

impl Letterbox {
    /// HyperLPR3's `letter_box`: scale to fit `size` keeping aspect (up or down), centred, the
    /// rest black.
    pub fn fit(width: u32, height: u32, size: u32) -> Self {
        let scale = (size as f32 / height as f32).min(size as f32 / width as f32);
        let (w, h) = (
            ((width as f32 * scale) as u32).clamp(1, size),
            ((height as f32 * scale) as u32).clamp(1, size),
        );
        Self {
            scale,
            left: (size - w) / 2,
            top: (size - h) / 2,
            width: w,
            height: h,
        }
    }

    /// A point of the model input back in frame pixels.
    pub fn to_frame(&self, p: [f32; 2]) -> [f32; 2] {
        [
            (p[0] - self.left as f32) / self.scale,
            (p[1] - self.top as f32) / self.scale,
        ]
    }
}

#[derive(Debug)]
pub struct PlateDetector {
    model: OnnxModel,
    /// The model's input name (`input` in HyperLPR3's export).
    input: String,
    config: DetectorConfig,
    /// Side of the square input the model was exported for (640 or 320).
    size: u32,
}

impl PlateDetector {
    /// Loads the model and checks it is a square-input detector with 15-value rows, so a wrong
    /// file fails here, naming itself, rather than mid-stream.
    pub fn load(path: &Path, config: DetectorConfig, intra_threads: usize) -> Result<Self> {
        let model = OnnxModel::load(MODEL, path, intra_threads)?;
        let unexpected = |reason: String| InferError::UnexpectedModel {
            model: MODEL,
            path: path.to_path_buf(),
            reason,
        };
        let (input, size) = match model.inputs() {
            [(name, shape)] => match shape.as_slice() {
                [_, 3, h, w] if h == w && *h > 0 => (name.clone(), *h as u32),
                other => {
                    return Err(unexpected(format!(
                        "input shape {other:?}, expected [1, 3, S, S] (HyperLPR3 y5fu_640x_sim.onnx or y5fu_320x_sim.onnx)"
                    )))
                }
            },
            inputs => {
                return Err(unexpected(format!(
                    "{} inputs, expected one [1, 3, S, S] image",
                    inputs.len()
                )))
            }
        };
        let detector = Self {
            model,
            input,
            config,
            size,
        };
        let probe = detector.raw(RgbView::new(
            size,
            size,
            &vec![0u8; (size * size * 3) as usize],
        )?);
        match probe {
            Ok(_) => Ok(detector),
            Err(InferError::BadOutput { reason, .. }) => Err(unexpected(reason)),
            Err(InferError::Run { source, .. }) => Err(unexpected(source.to_string())),
            Err(e) => Err(e),
        }
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Side of the square model input.
    pub fn input_size(&self) -> u32 {
        self.size
    }

    /// Detects plates in an RGB frame; results are sorted by score, best first.
    pub fn detect(&self, frame: RgbView<'_>) -> Result<Vec<PlateDetection>> {
        let (rows, letterbox) = self.raw(frame)?;
        Ok(decode(&rows, &self.config)
            .into_iter()
            .map(|d| to_frame(d, &letterbox))
            .collect())
    }

    /// The model's rows for a frame and where the frame sat in the input.
    fn raw(&self, frame: RgbView<'_>) -> Result<(Vec<f32>, Letterbox)> {
        let (input, letterbox) = preprocess(frame, self.size)?;
        let s = self.size as usize;
        let out = self.model.run_last(&self.input, [1, 3, s, s], input)?;
        match out.shape.as_slice() {
            [1, n, ROW] if n * ROW == out.data.len() => Ok((out.data, letterbox)),
            shape => Err(InferError::BadOutput {
                model: MODEL,
                output: "output".into(),
                reason: format!("shape {shape:?}, expected [1, N, {ROW}]"),
            }),
        }
    }
}

/// NCHW float input: the letterboxed frame, RGB, scaled to 0..1, black padding.
pub fn preprocess(frame: RgbView<'_>, size: u32) -> Result<(Vec<f32>, Letterbox)> {
    let lb = Letterbox::fit(frame.width(), frame.height(), size);
    let resized = resize_rgb(frame, lb.width, lb.height)?;
    let side = size as usize;
    let plane = side * side;
    let mut out = vec![0f32; plane * 3];
    for (y, row) in resized.data.chunks_exact(lb.width as usize * 3).enumerate() {
        let start = (y + lb.top as usize) * side + lb.left as usize;
        for (x, px) in row.chunks_exact(3).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                out[c * plane + start + x] = f32::from(v) / 255.0;
            }
        }
    }
    Ok((out, lb))
}

/// Decodes rows (input pixels) above the score threshold and applies NMS, best first.
pub fn decode(rows: &[f32], config: &DetectorConfig) -> Vec<PlateDetection> {
    let mut found: Vec<PlateDetection> = Vec::new();
    for r in rows.chunks_exact(ROW) {
        let objectness = r[4];
        // Cheap reject first: the score can never exceed the objectness.
        if !objectness.is_finite() || objectness <= config.score_threshold {
            continue;
        }
        let (single, double) = (r[13] * objectness, r[14] * objectness);
        let score = single.max(double);
        if !score.is_finite() || score <= config.score_threshold {
            continue;
        }
        let (cx, cy, w, h) = (r[0], r[1], r[2], r[3]);
        let bbox = BBox::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0);
        // HyperLPR3 treats the points as top-left, top-right, bottom-right, bottom-left.
        let corners = Quad([[r[5], r[6]], [r[7], r[8]], [r[9], r[10]], [r[11], r[12]]]);
        found.push(PlateDetection {
            bbox,
            corners,
            score,
            layers: if double > single {
                PlateLayers::Double
            } else {
                PlateLayers::Single
            },
        });
    }
    let boxes: Vec<BBox> = found.iter().map(|d| d.bbox).collect();
    let scores: Vec<f32> = found.iter().map(|d| d.score).collect();
    nms(&boxes, &scores, config.nms_iou)
        .into_iter()
        .map(|i| found[i])
        .collect()
}

fn to_frame(d: PlateDetection, lb: &Letterbox) -> PlateDetection {
    let [x1, y1] = lb.to_frame([d.bbox.x1, d.bbox.y1]);
    let [x2, y2] = lb.to_frame([d.bbox.x2, d.bbox.y2]);
    PlateDetection {
        bbox: BBox::new(x1, y1, x2, y2),
        corners: d.corners.map(|p| lb.to_frame(p)),
        ..d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_fits_the_long_side_and_centres_the_short_one() {
        // 1280x720 into 640: scale 0.5, 640x360, 140 px of black above and below.
        let lb = Letterbox::fit(1280, 720, 640);
        assert_eq!((lb.width, lb.height, lb.left, lb.top), (640, 360, 0, 140));
        assert_eq!(lb.to_frame([320.0, 140.0]), [640.0, 0.0]);
        // A portrait CCPD photo (720x1160) into 320, and a small frame scaled up.
        let lb = Letterbox::fit(720, 1160, 320);
        assert_eq!((lb.width, lb.height, lb.left, lb.top), (198, 320, 61, 0));
        let lb = Letterbox::fit(160, 80, 320);
        assert_eq!((lb.width, lb.height, lb.left, lb.top), (320, 160, 0, 80));
    }

    #[test]
    fn preprocess_is_rgb_over_255_with_black_padding() {
        // A 2x1 frame into a 2x2 input: one row of padding above it would be (2-1)/2 = 0 rows,
        // so the frame fills row 0 and row 1 stays black.
        let data = [255u8, 0, 51, 0, 102, 255];
        let (out, lb) = preprocess(RgbView::new(2, 1, &data).unwrap(), 2).unwrap();
        assert_eq!((lb.width, lb.height, lb.top), (2, 1, 0));
        let plane = 4;
        assert_eq!(&out[0..4], &[1.0, 0.0, 0.0, 0.0]); // R
        assert_eq!(&out[plane..plane + 4], &[0.0, 0.4, 0.0, 0.0]); // G
        assert_eq!(&out[2 * plane..2 * plane + 4], &[0.2, 1.0, 0.0, 0.0]); // B
    }

    fn row(cx: f32, obj: f32, single: f32, double: f32) -> [f32; ROW] {
        [
            cx,
            50.0,
            40.0,
            12.0,
            obj,
            cx - 20.0,
            44.0,
            cx + 20.0,
            45.0,
            cx + 20.0,
            56.0,
            cx - 20.0,
            55.0,
            single,
            double,
        ]
    }

    #[test]
    fn decode_scores_by_objectness_times_class_and_keeps_the_layer_class() {
        let rows: Vec<f32> = [
            row(100.0, 0.9, 0.9, 0.1),  // single, 0.81
            row(101.0, 0.8, 0.9, 0.1),  // overlaps the first: suppressed
            row(300.0, 0.95, 0.2, 0.8), // double, 0.76
            row(500.0, 0.9, 0.3, 0.3),  // 0.27: below the threshold
            row(700.0, 0.4, 1.0, 0.0),  // objectness alone below the threshold
        ]
        .concat();
        let dets = decode(&rows, &DetectorConfig::default());
        assert_eq!(dets.len(), 2);
        assert!((dets[0].score - 0.81).abs() < 1e-6);
        assert_eq!(dets[0].layers, PlateLayers::Single);
        assert_eq!(dets[0].bbox, BBox::new(80.0, 44.0, 120.0, 56.0));
        assert_eq!(dets[0].corners.0[0], [80.0, 44.0]);
        assert_eq!(dets[0].corners.0[2], [120.0, 56.0]);
        assert!((dets[1].score - 0.76).abs() < 1e-6);
        assert_eq!(dets[1].layers, PlateLayers::Double);
    }

    #[test]
    fn detections_map_back_through_the_letterbox() {
        let lb = Letterbox::fit(1280, 720, 640);
        let d = decode(&row(320.0, 0.9, 0.9, 0.0), &DetectorConfig::default())[0];
        let f = to_frame(d, &lb);
        // Input (300, 44) -> frame ((300 - 0) / 0.5, (44 - 140) / 0.5).
        assert_eq!(f.corners.0[0], [600.0, -192.0]);
        assert_eq!(f.bbox.x2, 680.0);
    }
}
