//! Vehicle detector (NanoDet COCO 416, converted from TF.js; see models/vehicles/README.md):
//! pre-processing, distribution-focal box decoding and class-agnostic NMS over the road-vehicle
//! classes. Everything else COCO knows (people, animals...) is ignored.
use std::path::Path;

use xl_schema::{BBox, VehicleClass, VehicleDetection};

use crate::error::{InferError, Result};
use crate::image::{resize_rgb, RgbView};
use crate::nms::nms;
use crate::runtime::{OnnxModel, TensorOut};

const MODEL: &str = "vehicle_detector";
const CLASSES: usize = 80;
/// Each box side is a distribution over 0..=10 strides.
const BINS: usize = 11;
const STRIDES: [u32; 3] = [8, 16, 32];
/// COCO class index -> the vehicle class it stands for.
const VEHICLE_CLASSES: [(usize, VehicleClass); 4] = [
    (2, VehicleClass::Car),
    (3, VehicleClass::Motorcycle),
    (5, VehicleClass::Bus),
    (7, VehicleClass::Truck),
];

/// Vehicle detector settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VehicleDetectorConfig {
    /// Minimum class score (the model's scores are already sigmoid probabilities).
    pub score_threshold: f32,
    /// Overlap above which the weaker of two vehicle boxes is dropped, whatever their classes
    /// (the model often calls one lorry both "truck" and "car").
    pub nms_iou: f32,
}

impl Default for VehicleDetectorConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.3,
            nms_iou: 0.6,
        }
    }
}

/// Memory layout of the model's image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Nchw,
    Nhwc,
}

/// The NanoDet model and what its input looks like.
#[derive(Debug)]
pub struct VehicleDetector {
    model: OnnxModel,
    config: VehicleDetectorConfig,
    input_name: String,
    layout: Layout,
    size: u32,
}

/// One stride's raw outputs: per cell, 80 class scores and 4 x 11 side distributions.
#[derive(Debug, Clone, Copy)]
pub struct LevelOutput<'a> {
    pub stride: u32,
    pub scores: &'a [f32],
    pub boxes: &'a [f32],
}

impl VehicleDetector {
    pub fn load(path: &Path, config: VehicleDetectorConfig, intra_threads: usize) -> Result<Self> {
        let model = OnnxModel::load(MODEL, path, intra_threads)?;
        let unexpected = |reason: String| InferError::UnexpectedModel {
            model: MODEL,
            path: path.to_path_buf(),
            reason,
        };
        let [(input_name, shape)] = model.inputs() else {
            return Err(unexpected(format!(
                "{} inputs, expected 1",
                model.inputs().len()
            )));
        };
        let (layout, size) = match shape.as_slice() {
            [_, 3, h, w] if h == w && *h > 0 => (Layout::Nchw, *h as u32),
            [_, h, w, 3] if h == w && *h > 0 => (Layout::Nhwc, *h as u32),
            other => {
                return Err(unexpected(format!(
                    "input shape {other:?}, expected a square RGB image"
                )))
            }
        };
        if !size.is_multiple_of(32) || model.output_names().len() != 6 {
            return Err(unexpected(format!(
                "input {size}px with {} outputs, expected a multiple of 32 and 6 outputs",
                model.output_names().len()
            )));
        }
        Ok(Self {
            input_name: input_name.clone(),
            model,
            config,
            layout,
            size,
        })
    }

    /// The square size frames are scaled to.
    pub fn input_size(&self) -> u32 {
        self.size
    }

    /// The model input for `frame` (stretched to the input size, normalised BGR floats in the
    /// model's layout): the pre-processing step of [`Self::detect`], public for benchmarks.
    pub fn preprocess(&self, frame: RgbView<'_>) -> Result<Vec<f32>> {
        preprocess(frame, self.size, self.layout)
    }

    /// Vehicles in an RGB frame, in its pixels, best score first.
    pub fn detect(&self, frame: RgbView<'_>) -> Result<Vec<VehicleDetection>> {
        let n = self.size as usize;
        let input = self.preprocess(frame)?;
        let shape = match self.layout {
            Layout::Nchw => [1, 3, n, n],
            Layout::Nhwc => [1, n, n, 3],
        };
        let outs = self.model.run(&self.input_name, shape, input, &[])?;
        let levels = self.match_levels(&outs)?;
        let sx = frame.width() as f32 / self.size as f32;
        let sy = frame.height() as f32 / self.size as f32;
        Ok(decode(&levels, &self.config)
            .into_iter()
            .map(|d| VehicleDetection {
                bbox: BBox::new(
                    (d.bbox.x1 * sx).max(0.0),
                    (d.bbox.y1 * sy).max(0.0),
                    (d.bbox.x2 * sx).min(frame.width() as f32),
                    (d.bbox.y2 * sy).min(frame.height() as f32),
                ),
                ..d
            })
            .collect())
    }

    /// Pairs the six outputs into per-stride (scores, boxes) by their shapes, not their names
    /// (converters rename outputs freely).
    fn match_levels<'a>(&self, outs: &'a [TensorOut]) -> Result<Vec<LevelOutput<'a>>> {
        STRIDES
            .iter()
            .map(|&stride| {
                let cells = (self.size / stride).pow(2) as usize;
                let find = |width: usize| {
                    outs.iter()
                        .find(|t| t.shape.last() == Some(&width) && t.data.len() == cells * width)
                        .map(|t| t.data.as_slice())
                        .ok_or_else(|| InferError::BadOutput {
                            model: MODEL,
                            output: format!("stride {stride}"),
                            reason: format!("no output of shape [1, {cells}, {width}]"),
                        })
                };
                Ok(LevelOutput {
                    stride,
                    scores: find(CLASSES)?,
                    boxes: find(4 * BINS)?,
                })
            })
            .collect()
    }
}

/// Upstream NanoDet's normalisation, in the model's BGR channel order. (MODELS.md said RGB
/// (v - 127) / 128; on the CCPD photos that finds 15 of 27 cars against 20 with these.)
const MEAN_BGR: [f32; 3] = [103.53, 116.28, 123.675];
const STD_BGR: [f32; 3] = [57.375, 57.12, 58.395];

/// The frame stretched (not letterboxed: stretching found more cars) to `size` x `size`, as
/// normalised BGR floats in the model's layout.
fn preprocess(frame: RgbView<'_>, size: u32, layout: Layout) -> Result<Vec<f32>> {
    let resized = resize_rgb(frame, size, size)?;
    let norm = |px: &[u8], c: usize| (f32::from(px[2 - c]) - MEAN_BGR[c]) / STD_BGR[c];
    let plane = (size * size) as usize;
    let mut out = vec![0f32; plane * 3];
    for (i, px) in resized.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            match layout {
                Layout::Nchw => out[c * plane + i] = norm(px, c),
                Layout::Nhwc => out[i * 3 + c] = norm(px, c),
            }
        }
    }
    Ok(out)
}

/// Decodes every cell whose best vehicle-class score passes the threshold, then suppresses
/// overlaps across classes. Boxes are in model-input pixels.
pub fn decode(levels: &[LevelOutput<'_>], config: &VehicleDetectorConfig) -> Vec<VehicleDetection> {
    let mut found = Vec::new();
    for level in levels {
        let cells = level.scores.len() / CLASSES;
        let cols = (cells as f32).sqrt().round() as usize;
        if cols == 0 || cols * cols != cells || level.boxes.len() != cells * 4 * BINS {
            continue;
        }
        let stride = level.stride as f32;
        for cell in 0..cells {
            let scores = &level.scores[cell * CLASSES..(cell + 1) * CLASSES];
            let (class, score) = VEHICLE_CLASSES
                .iter()
                .map(|&(i, class)| (class, scores[i]))
                .fold((VehicleClass::Car, f32::MIN), |best, c| {
                    if c.1 > best.1 {
                        c
                    } else {
                        best
                    }
                });
            if score < config.score_threshold {
                continue;
            }
            let cx = ((cell % cols) as f32 + 0.5) * stride;
            let cy = ((cell / cols) as f32 + 0.5) * stride;
            let dist = &level.boxes[cell * 4 * BINS..(cell + 1) * 4 * BINS];
            let side = |k: usize| expected_bin(&dist[k * BINS..(k + 1) * BINS]) * stride;
            found.push(VehicleDetection {
                class,
                score,
                bbox: BBox::new(cx - side(0), cy - side(1), cx + side(2), cy + side(3)),
            });
        }
    }
    let boxes: Vec<BBox> = found.iter().map(|d| d.bbox).collect();
    let scores: Vec<f32> = found.iter().map(|d| d.score).collect();
    nms(&boxes, &scores, config.nms_iou)
        .into_iter()
        .map(|i| found[i])
        .collect()
}

/// Expectation of the bin index under the softmax of `logits`.
fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    let mut weighted = 0.0;
    for (i, &l) in logits.iter().enumerate() {
        let e = (l - max).exp();
        sum += e;
        weighted += e * i as f32;
    }
    if sum > 0.0 {
        weighted / sum
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits that put (almost) all mass on bin `k`.
    fn peaked(k: usize) -> [f32; BINS] {
        let mut l = [-20.0; BINS];
        l[k] = 20.0;
        l
    }

    #[test]
    fn expected_bin_is_the_softmax_mean() {
        assert!((expected_bin(&peaked(3)) - 3.0).abs() < 1e-4);
        let mut two = [-20.0; BINS];
        two[2] = 0.0;
        two[4] = 0.0;
        assert!((expected_bin(&two) - 3.0).abs() < 1e-4);
    }

    #[test]
    fn decode_places_boxes_around_cell_centres_in_stride_units() {
        // One 2x2 level at stride 32: cell 3 (col 1, row 1, centre 48,48) is a truck.
        let mut scores = vec![0.0f32; 4 * CLASSES];
        scores[3 * CLASSES + 7] = 0.8; // truck
        scores[3 * CLASSES + 2] = 0.5; // also "car": the better vehicle class wins
        scores[CLASSES] = 0.9; // cell 1 is a person: ignored
        let mut boxes = vec![0.0f32; 4 * 4 * BINS];
        for (k, bin) in [1usize, 1, 0, 2].into_iter().enumerate() {
            boxes[3 * 4 * BINS + k * BINS..3 * 4 * BINS + (k + 1) * BINS]
                .copy_from_slice(&peaked(bin));
        }
        let level = LevelOutput {
            stride: 32,
            scores: &scores,
            boxes: &boxes,
        };
        let dets = decode(&[level], &VehicleDetectorConfig::default());
        assert_eq!(dets.len(), 1, "{dets:?}");
        let d = dets[0];
        assert_eq!(d.class, VehicleClass::Truck);
        assert!((d.score - 0.8).abs() < 1e-6);
        // left 1 stride, top 1, right 0, bottom 2 -> [16, 16, 48, 112].
        let b = d.bbox;
        for (got, want) in [(b.x1, 16.0), (b.y1, 16.0), (b.x2, 48.0), (b.y2, 112.0)] {
            assert!((got - want).abs() < 1e-2, "{b:?}");
        }
    }

    #[test]
    fn overlapping_boxes_of_different_classes_are_merged() {
        let mut scores = vec![0.0f32; 4 * CLASSES];
        scores[2 * CLASSES + 7] = 0.7; // cell 2: truck
        scores[3 * CLASSES + 2] = 0.6; // cell 3: car, same vehicle one cell over
        let mut boxes = vec![0.0f32; 4 * 4 * BINS];
        for cell in [2, 3] {
            for k in 0..4 {
                let at = cell * 4 * BINS + k * BINS;
                boxes[at..at + BINS].copy_from_slice(&peaked(3));
            }
        }
        let level = LevelOutput {
            stride: 16,
            scores: &scores,
            boxes: &boxes,
        };
        let dets = decode(&[level], &VehicleDetectorConfig::default());
        assert_eq!(dets.len(), 1);
        assert_eq!(dets[0].class, VehicleClass::Truck);
    }

    #[test]
    fn preprocess_is_bgr_planes_with_nanodet_mean_and_std() {
        let data = [255u8, 127, 0];
        let out = preprocess(RgbView::new(1, 1, &data).unwrap(), 1, Layout::Nchw).unwrap();
        let want = [
            (0.0 - 103.53) / 57.375,
            (127.0 - 116.28) / 57.12,
            (255.0 - 123.675) / 58.395,
        ];
        for (got, want) in out.iter().zip(want) {
            assert!((got - want).abs() < 1e-5, "{out:?}");
        }
    }
}
