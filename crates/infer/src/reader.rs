//! The plate stage: detect plates in a frame, rectify each, read its text and colour.
use std::path::{Path, PathBuf};

use xl_schema::{PlateObservation, Quad};

use crate::color::{color_for_text, PlateColorClassifier};
use crate::detector::{DetectorConfig, PlateDetection, PlateDetector, PlateLayers};
use crate::error::Result;
use crate::grammar::LengthPrior;
use crate::image::{RgbBuf, RgbView};
use crate::recognizer::{DecodeMode, PlateRecognizer, PlateText};
use crate::runtime::load_onnx_runtime;
use crate::warp::{rows, warp_quad};

/// The default plate detector's file name (HyperLPR3, 640x640 input).
pub const DETECTOR_640: &str = "y5fu_640x_sim.onnx";
/// The default recogniser's file name (PaddleOCR PP-OCRv4).
pub const RECOGNIZER: &str = "ch_PP-OCRv4_rec_infer.onnx";
/// The plate-colour classifier's file name (HyperLPR3).
pub const CLASSIFIER: &str = "litemodel_cls_96x_r1.onnx";

/// Detector corners sit on the plate's edge; reading a little around it (4% of the width, 8% of
/// the height about the centre) keeps the outer characters whole.
const MARGIN: (f32, f32) = (0.04, 0.08);
/// A single-row plate is read from this size (HyperLPR3's recogniser input is 160 wide).
const SINGLE_SIZE: (u32, u32) = (160, 50);
/// A double-row plate (440x220 mm) is warped at 2:1 and cut where HyperLPR3 cuts it: the top
/// 40% holds the province and letter, the rest the serial.
const DOUBLE_SIZE: (u32, u32) = (160, 80);
const DOUBLE_SPLIT: f32 = 0.4;
/// The colour classifier's input side.
const CLASSIFIER_SIDE: u32 = 96;

/// Where the plate models live and how to run them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateReaderConfig {
    pub detector_model: PathBuf,
    pub recognizer_model: PathBuf,
    pub classifier_model: PathBuf,
    pub detector: DetectorConfig,
    pub decode: DecodeMode,
    /// Intra-op threads per session; 1 with one reader per core beats sharing threads.
    pub intra_threads: usize,
    /// Also read the plate from slightly moved corners and keep the most probable reading.
    pub corner_variants: bool,
}

impl PlateReaderConfig {
    /// The standard file names ([`DETECTOR_640`], [`RECOGNIZER`], [`CLASSIFIER`]) in `dir`.
    pub fn from_model_dir(dir: &Path) -> Self {
        Self {
            detector_model: dir.join(DETECTOR_640),
            recognizer_model: dir.join(RECOGNIZER),
            classifier_model: dir.join(CLASSIFIER),
            detector: DetectorConfig::default(),
            decode: DecodeMode::default(),
            intra_threads: 1,
            corner_variants: false,
        }
    }
}

/// Detector + recogniser. `Send + Sync`; each model runs one call at a time, so create one reader
/// per worker for parallelism on CPU.
#[derive(Debug)]
pub struct PlateReader {
    detector: PlateDetector,
    recognizer: PlateRecognizer,
    classifier: PlateColorClassifier,
    decode: DecodeMode,
    corner_variants: bool,
}

/// The extra readings of a plate, besides its corners as detected; the most probable valid text
/// of all wins.
#[derive(Clone, Copy)]
enum Variant {
    /// Width and height scale factors about the quad's centre.
    Scale(f32, f32),
    /// The left edge moved out by this share of the plate's width, the right edge kept. The
    /// province character is the leftmost and the hardest to read; detector corners a little
    /// inside the plate's left edge clip it, and it is then read as any look-alike province.
    WidenLeft(f32),
}

const VARIANTS: [Variant; 3] = [
    Variant::Scale(1.06, 1.0),
    Variant::Scale(1.0, 1.12),
    Variant::WidenLeft(0.06),
];

impl Variant {
    fn apply(self, q: &Quad) -> Quad {
        match self {
            Variant::Scale(sx, sy) => scale_quad(q, sx, sy),
            Variant::WidenLeft(share) => widen_left(q, share),
        }
    }
}

fn scale_quad(q: &Quad, sx: f32, sy: f32) -> Quad {
    let cx = q.0.iter().map(|p| p[0]).sum::<f32>() / 4.0;
    let cy = q.0.iter().map(|p| p[1]).sum::<f32>() / 4.0;
    q.map(|p| [cx + (p[0] - cx) * sx, cy + (p[1] - cy) * sy])
}

/// Corners are TL, TR, BR, BL: TL moves away from TR along the top edge, BL away from BR along
/// the bottom edge.
fn widen_left(q: &Quad, share: f32) -> Quad {
    let [tl, tr, br, bl] = q.0;
    let out = |from: [f32; 2], away: [f32; 2]| {
        [
            from[0] + (from[0] - away[0]) * share,
            from[1] + (from[1] - away[1]) * share,
        ]
    };
    Quad([out(tl, tr), tr, br, out(bl, br)])
}

impl PlateReader {
    /// Loads both models. `ort_library` (or `ORT_DYLIB_PATH`) names the ONNX Runtime library.
    pub fn load(config: &PlateReaderConfig, ort_library: Option<&Path>) -> Result<Self> {
        load_onnx_runtime(ort_library)?;
        let detector = PlateDetector::load(
            &config.detector_model,
            config.detector,
            config.intra_threads,
        )?;
        let recognizer = PlateRecognizer::load(&config.recognizer_model, config.intra_threads)?;
        let classifier =
            PlateColorClassifier::load(&config.classifier_model, config.intra_threads)?;
        Ok(Self {
            detector,
            recognizer,
            classifier,
            decode: config.decode,
            corner_variants: config.corner_variants,
        })
    }

    pub fn detector(&self) -> &PlateDetector {
        &self.detector
    }

    pub fn recognizer(&self) -> &PlateRecognizer {
        &self.recognizer
    }

    pub fn classifier(&self) -> &PlateColorClassifier {
        &self.classifier
    }

    /// Every plate in the frame, best detection first. Plates whose corners cannot be rectified
    /// (degenerate quads) are skipped with a debug log.
    pub fn read(&self, frame: RgbView<'_>) -> Result<Vec<PlateObservation>> {
        let detections = self.detector.detect(frame)?;
        let mut out = Vec::with_capacity(detections.len());
        for det in detections {
            if let Some(obs) = self.read_detection(frame, &det)? {
                out.push(obs);
            }
        }
        Ok(out)
    }

    /// Reads one detected plate; `None` when its corners are degenerate.
    pub fn read_detection(
        &self,
        frame: RgbView<'_>,
        det: &PlateDetection,
    ) -> Result<Option<PlateObservation>> {
        let Some((text, color)) = self.read_corners(frame, &det.corners, det.layers)? else {
            tracing::debug!(corners = ?det.corners, "skipping plate with degenerate corners");
            return Ok(None);
        };
        Ok(Some(PlateObservation {
            corners: det.corners,
            detection_score: det.score,
            text: text.text,
            char_confidences: text.char_confidences,
            color,
            double_layer: det.layers == PlateLayers::Double,
        }))
    }

    /// Reads the plate inside known corners (TL, TR, BR, BL): colour, warp, recognise.
    pub fn read_corners(
        &self,
        frame: RgbView<'_>,
        corners: &Quad,
        layers: PlateLayers,
    ) -> Result<Option<(PlateText, xl_schema::PlateColor)>> {
        let Some(plate) = warp_plate(frame, corners, layers) else {
            return Ok(None);
        };
        // The classifier sees the plate as HyperLPR3 hands it over: the corners, no margin.
        let Some(bare) = warp_quad(frame, corners, CLASSIFIER_SIDE, CLASSIFIER_SIDE) else {
            return Ok(None);
        };
        let color = self.classifier.classify(bare.view())?;
        let prior = LengthPrior::for_color(color);
        let mut best = self.read_plate(&plate, layers, prior)?;
        if self.corner_variants {
            for variant in VARIANTS {
                let Some(plate) = warp_plate(frame, &variant.apply(corners), layers) else {
                    continue;
                };
                let text = self.read_plate(&plate, layers, prior)?;
                // A valid plate beats an invalid one; then the more probable frame path wins.
                if (text.valid, text.path_log_prob) > (best.valid, best.path_log_prob) {
                    best = text;
                }
            }
        }
        let color = color_for_text(&best.text, color);
        Ok(Some((best, color)))
    }

    fn read_plate(
        &self,
        plate: &RgbBuf,
        layers: PlateLayers,
        prior: LengthPrior,
    ) -> Result<PlateText> {
        let probs = match layers {
            PlateLayers::Single => self.recognizer.probabilities(plate.view())?,
            PlateLayers::Double => {
                let (top, bottom) = split_rows(plate);
                let top = self.recognizer.probabilities(top.view())?;
                top.then(&self.recognizer.probabilities(bottom.view())?)
            }
        };
        Ok(self
            .recognizer
            .decode_with_prior(&probs, self.decode, prior))
    }
}

/// The plate inside `corners` with its margin, upright, at the size its layout is read at.
pub fn warp_plate(frame: RgbView<'_>, corners: &Quad, layers: PlateLayers) -> Option<RgbBuf> {
    let (w, h) = match layers {
        PlateLayers::Single => SINGLE_SIZE,
        PlateLayers::Double => DOUBLE_SIZE,
    };
    warp_quad(
        frame,
        &scale_quad(corners, 1.0 + MARGIN.0, 1.0 + MARGIN.1),
        w,
        h,
    )
}

/// The two rows of a warped double-layer plate, top first.
pub fn split_rows(plate: &RgbBuf) -> (RgbBuf, RgbBuf) {
    let line = (plate.height as f32 * DOUBLE_SPLIT) as u32;
    (rows(plate, 0, line), rows(plate, line, plate.height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_left_moves_only_the_left_edge_along_the_plate() {
        // A plate tilted down to the right: TL, TR, BR, BL.
        let q = Quad([[100.0, 50.0], [200.0, 60.0], [200.0, 90.0], [100.0, 80.0]]);
        let w = widen_left(&q, 0.06);
        assert_eq!(w.0[1], q.0[1]);
        assert_eq!(w.0[2], q.0[2]);
        for (moved, kept) in [(w.0[0], [94.0, 49.4]), (w.0[3], [94.0, 79.4])] {
            assert!((moved[0] - kept[0]).abs() < 1e-4 && (moved[1] - kept[1]).abs() < 1e-4);
        }
    }
}
