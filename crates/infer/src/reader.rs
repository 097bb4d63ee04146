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
        }
    }
}

/// Detector + recogniser + colour classifier. `Send + Sync`; each model runs one call at a time,
/// so create one reader per worker for parallelism on CPU.
#[derive(Debug)]
pub struct PlateReader {
    detector: PlateDetector,
    recognizer: PlateRecognizer,
    classifier: PlateColorClassifier,
    decode: DecodeMode,
}

/// `q` scaled about its centre by `sx` horizontally and `sy` vertically.
fn scale_quad(q: &Quad, sx: f32, sy: f32) -> Quad {
    let cx = q.0.iter().map(|p| p[0]).sum::<f32>() / 4.0;
    let cy = q.0.iter().map(|p| p[1]).sum::<f32>() / 4.0;
    q.map(|p| [cx + (p[0] - cx) * sx, cy + (p[1] - cy) * sy])
}

impl PlateReader {
    /// Loads the three models. `ort_library` (or `ORT_DYLIB_PATH`) names the ONNX Runtime library.
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
        let best = self.read_plate(&plate, layers, prior)?;
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
    fn the_margin_widens_about_the_centre() {
        let q = Quad([[100.0, 50.0], [200.0, 50.0], [200.0, 80.0], [100.0, 80.0]]);
        let w = scale_quad(&q, 1.04, 1.08);
        for (got, want) in [(w.0[0], [98.0, 48.8]), (w.0[2], [202.0, 81.2])] {
            assert!((got[0] - want[0]).abs() < 1e-3 && (got[1] - want[1]).abs() < 1e-3);
        }
    }

    #[test]
    fn a_double_plate_is_cut_at_forty_percent_of_its_height() {
        let plate = RgbBuf {
            width: 2,
            height: 80,
            data: (0..80u8).flat_map(|y| [y; 6]).collect(),
        };
        let (top, bottom) = split_rows(&plate);
        assert_eq!((top.height, bottom.height), (32, 48));
        assert_eq!(top.data[top.data.len() - 1], 31);
        assert_eq!(bottom.data[0], 32);
    }
}
