//! Plate text recogniser (`clp_v2_c_rec.onnx`, PaddleOCR-style CRNN with CTC output).
use std::path::Path;

use crate::alphabet::Alphabet;
use crate::ctc::{greedy, CtcProbs};
use crate::error::{InferError, Result};
use crate::grammar::{LengthPrior, PlateGrammar};
use crate::image::{resize_rgb, RgbView};
use crate::runtime::OnnxModel;

const MODEL: &str = "plate_recognizer";
const INPUT_HEIGHT: u32 = 32;
/// Widest input accepted; a plate band is 148 wide, anything near this is not a plate.
const MAX_INPUT_WIDTH: u32 = 1024;

/// How the per-frame probabilities become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodeMode {
    /// Best class per frame (the reference decoder).
    Greedy,
    /// Most probable reading that obeys the plate grammar.
    #[default]
    Grammar,
}

/// A read plate text.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateText {
    pub text: String,
    /// Per character of `text`, its highest probability over the frames it was read from.
    pub char_confidences: Vec<f32>,
    /// Whether `text` follows the plate grammar.
    pub valid: bool,
    /// Log-probability of the decoded frame path: compares readings of the same plate.
    pub path_log_prob: f32,
}

/// The recogniser's raw output for one crop.
#[derive(Debug, Clone)]
pub struct CharProbs {
    pub data: Vec<f32>,
    pub frames: usize,
    pub classes: usize,
}

impl CharProbs {
    pub fn view(&self) -> CtcProbs<'_> {
        CtcProbs {
            data: &self.data,
            frames: self.frames,
            classes: self.classes,
        }
    }
}

#[derive(Debug)]
pub struct PlateRecognizer {
    model: OnnxModel,
    alphabet: Alphabet,
    grammar: PlateGrammar,
}

/// Recogniser input size for a crop: height 32, width keeping the aspect (rounded up).
pub fn input_size(width: u32, height: u32) -> (u32, u32) {
    let w = (INPUT_HEIGHT as u64 * width as u64).div_ceil(height.max(1) as u64);
    ((w as u32).clamp(1, MAX_INPUT_WIDTH), INPUT_HEIGHT)
}

/// NCHW float input: BGR planes scaled to -1..1.
pub fn preprocess(crop: RgbView<'_>) -> Result<(Vec<f32>, u32)> {
    let (w, h) = input_size(crop.width(), crop.height());
    let resized = resize_rgb(crop, w, h)?;
    let plane = (w * h) as usize;
    let mut out = vec![0f32; plane * 3];
    let (b, rest) = out.split_at_mut(plane);
    let (g, r) = rest.split_at_mut(plane);
    let norm = |v: u8| v as f32 / 127.5 - 1.0;
    for (i, px) in resized.data.chunks_exact(3).enumerate() {
        b[i] = norm(px[2]);
        g[i] = norm(px[1]);
        r[i] = norm(px[0]);
    }
    Ok((out, w))
}

impl PlateRecognizer {
    pub fn load(model_path: &Path, alphabet_path: &Path, intra_threads: usize) -> Result<Self> {
        let alphabet = Alphabet::load(alphabet_path)?;
        let model = OnnxModel::load(MODEL, model_path, intra_threads)?;
        let grammar = PlateGrammar::new(&alphabet);
        let recognizer = Self {
            model,
            alphabet,
            grammar,
        };
        // Catch a mismatched dictionary at load time rather than as garbled text later.
        let probe = recognizer.probabilities(RgbView::new(148, 32, &vec![128u8; 148 * 32 * 3])?)?;
        if probe.classes != recognizer.alphabet.len() + 1 {
            return Err(InferError::AlphabetMismatch {
                path: alphabet_path.to_path_buf(),
                entries: recognizer.alphabet.len(),
                classes: probe.classes,
            });
        }
        Ok(recognizer)
    }

    pub fn alphabet(&self) -> &Alphabet {
        &self.alphabet
    }

    /// Per-frame class probabilities for a crop of any size (resized to height 32).
    pub fn probabilities(&self, crop: RgbView<'_>) -> Result<CharProbs> {
        let (input, w) = preprocess(crop)?;
        let mut outs =
            self.model
                .run("x", [1, 3, INPUT_HEIGHT as usize, w as usize], input, &[])?;
        let out = outs.pop().ok_or_else(|| InferError::BadOutput {
            model: MODEL,
            output: "0".into(),
            reason: "no output".into(),
        })?;
        match out.shape.as_slice() {
            [1, frames, classes] if frames * classes == out.data.len() && *classes > 1 => {
                Ok(CharProbs {
                    frames: *frames,
                    classes: *classes,
                    data: out.data,
                })
            }
            shape => Err(InferError::BadOutput {
                model: MODEL,
                output: "0".into(),
                reason: format!("shape {shape:?}, expected [1, T, classes]"),
            }),
        }
    }

    /// Reads the text of a crop.
    pub fn recognize(&self, crop: RgbView<'_>, mode: DecodeMode) -> Result<PlateText> {
        self.recognize_with_prior(crop, mode, LengthPrior::NONE)
    }

    /// Reads a crop knowing how likely each plate length is (e.g. from the plate's colour).
    pub fn recognize_with_prior(
        &self,
        crop: RgbView<'_>,
        mode: DecodeMode,
        prior: LengthPrior,
    ) -> Result<PlateText> {
        let probs = self.probabilities(crop)?;
        Ok(self.decode_with_prior(&probs, mode, prior))
    }

    pub fn decode(&self, probs: &CharProbs, mode: DecodeMode) -> PlateText {
        self.decode_with_prior(probs, mode, LengthPrior::NONE)
    }

    pub fn decode_with_prior(
        &self,
        probs: &CharProbs,
        mode: DecodeMode,
        prior: LengthPrior,
    ) -> PlateText {
        let (decoded, valid) = match mode {
            DecodeMode::Greedy => {
                let d = greedy(probs.view());
                let text = self.alphabet.text(&d.labels);
                let valid = xl_schema::plate::is_valid_plate(&text);
                (d, valid)
            }
            DecodeMode::Grammar => self.grammar.decode(probs.view(), prior),
        };
        PlateText {
            text: self.alphabet.text(&decoded.labels),
            char_confidences: decoded.confidences,
            valid,
            path_log_prob: decoded.path_log_prob,
        }
    }
}
