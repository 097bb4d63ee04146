//! Plate text recogniser: PaddleOCR's PP-OCRv4 `ch_PP-OCRv4_rec_infer.onnx` (SVTR-LCNet, CTC over
//! 6,623 Chinese/Latin symbols), read through the plate alphabet only.
//!
//! The model's dictionary is its own metadata (`character`); the columns of the plate symbols are
//! picked out of each output frame, so every later step (CTC, grammar, confidences) sees a small
//! plate alphabet and never a symbol that cannot stand on a plate.
use std::path::Path;

use crate::alphabet::Alphabet;
use crate::ctc::{greedy, CtcProbs};
use crate::error::{InferError, Result};
use crate::grammar::{plate_symbols, LengthPrior, PlateGrammar};
use crate::image::{resize_rgb, RgbView};
use crate::runtime::OnnxModel;

const MODEL: &str = "plate_recognizer";
const INPUT_HEIGHT: u32 = 48;
/// Narrower inputs are right-padded to this width (HyperLPR3 and the trial read at 48x160).
const MIN_INPUT_WIDTH: u32 = 160;
/// Widest input accepted; a plate is read at about 154 wide, anything near this is not a plate.
const MAX_INPUT_WIDTH: u32 = 1024;
/// Metadata key holding the dictionary, one symbol per line (PaddleOCR's ONNX export).
const DICTIONARY_KEY: &str = "character";

/// How the per-frame probabilities become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodeMode {
    /// Best plate symbol per frame.
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

/// Per-frame probabilities of the blank (column 0) and each plate symbol (column `label`).
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

    /// The frames of `self` followed by those of `next`: the two rows of a double-layer plate
    /// read as one line, top row first.
    pub fn then(mut self, next: &CharProbs) -> CharProbs {
        debug_assert_eq!(self.classes, next.classes);
        self.data.extend_from_slice(&next.data);
        self.frames += next.frames;
        self
    }
}

#[derive(Debug)]
pub struct PlateRecognizer {
    model: OnnxModel,
    /// The model's input name (`x` in PaddleOCR's export).
    input: String,
    alphabet: Alphabet,
    /// `columns[label]`: the model's output class of plate label `label` (0: the blank).
    columns: Vec<usize>,
    /// Output classes: blank, the dictionary, and a trailing space.
    model_classes: usize,
    grammar: PlateGrammar,
}

/// Recogniser input size for a crop: height 48, width keeping the aspect (rounded up), and the
/// width the tensor is padded to.
pub fn input_size(width: u32, height: u32) -> (u32, u32, u32) {
    let w = (INPUT_HEIGHT as u64 * width as u64).div_ceil(height.max(1) as u64);
    let w = (w as u32).clamp(1, MAX_INPUT_WIDTH);
    (w, INPUT_HEIGHT, w.max(MIN_INPUT_WIDTH))
}

/// NCHW float input, BGR planes scaled to -1..1, right-padded with 0 (mid grey) to at least 160:
/// PaddleOCR's `resize_norm_img`. Returns the data and the padded width.
pub fn preprocess(crop: RgbView<'_>) -> Result<(Vec<f32>, u32)> {
    let (w, h, padded) = input_size(crop.width(), crop.height());
    let resized = resize_rgb(crop, w, h)?;
    let (w, h, padded) = (w as usize, h as usize, padded as usize);
    let plane = padded * h;
    let mut out = vec![0f32; plane * 3];
    let norm = |v: u8| f32::from(v) / 127.5 - 1.0;
    for (y, row) in resized.data.chunks_exact(w * 3).enumerate() {
        for (x, px) in row.chunks_exact(3).enumerate() {
            let i = y * padded + x;
            out[i] = norm(px[2]);
            out[plane + i] = norm(px[1]);
            out[2 * plane + i] = norm(px[0]);
        }
    }
    Ok((out, padded as u32))
}

impl PlateRecognizer {
    /// Loads the model, reads its dictionary from the model's metadata and finds every plate
    /// symbol in it; a model without that dictionary, or whose output does not match it, is
    /// refused here with the file named.
    pub fn load(model_path: &Path, intra_threads: usize) -> Result<Self> {
        let model = OnnxModel::load(MODEL, model_path, intra_threads)?;
        let unexpected = |reason: String| InferError::UnexpectedModel {
            model: MODEL,
            path: model_path.to_path_buf(),
            reason,
        };
        let dictionary: Vec<String> = model
            .metadata(DICTIONARY_KEY)
            .ok_or_else(|| {
                unexpected(format!(
                    "no '{DICTIONARY_KEY}' dictionary in its metadata (expected PaddleOCR's ch_PP-OCRv4_rec_infer.onnx)"
                ))
            })?
            .lines()
            .map(str::to_string)
            .collect();
        let symbols = plate_symbols();
        let mut columns = vec![0usize];
        for &c in &symbols {
            let mut buf = [0u8; 4];
            let want = c.encode_utf8(&mut buf);
            let i = dictionary
                .iter()
                .position(|d| d == want)
                .ok_or_else(|| unexpected(format!("its dictionary has no '{c}'")))?;
            columns.push(i + 1);
        }
        let input = match model.inputs() {
            [(name, shape)] if shape.len() == 4 => name.clone(),
            inputs => {
                let shapes: Vec<_> = inputs.iter().map(|i| &i.1).collect();
                return Err(unexpected(format!(
                    "inputs {shapes:?}, expected one [N, 3, 48, W] image"
                )));
            }
        };
        let alphabet = Alphabet::new(symbols);
        let grammar = PlateGrammar::new(&alphabet);
        let recognizer = Self {
            model,
            input,
            alphabet,
            columns,
            model_classes: dictionary.len() + 2,
            grammar,
        };
        // Catch a model whose output does not match its dictionary now, not as garbled text.
        let probe = vec![128u8; 154 * 48 * 3];
        match recognizer.probabilities(RgbView::new(154, 48, &probe)?) {
            Ok(_) => Ok(recognizer),
            Err(InferError::BadOutput { reason, .. }) => Err(unexpected(reason)),
            Err(InferError::Run { source, .. }) => Err(unexpected(source.to_string())),
            Err(e) => Err(e),
        }
    }

    /// The plate symbols this recogniser reads (labels 1..).
    pub fn alphabet(&self) -> &Alphabet {
        &self.alphabet
    }

    /// Per-frame probabilities of the blank and the plate symbols for a crop of any size
    /// (resized to height 48).
    pub fn probabilities(&self, crop: RgbView<'_>) -> Result<CharProbs> {
        let (input, w) = preprocess(crop)?;
        let out = self.model.run_last(
            &self.input,
            [1, 3, INPUT_HEIGHT as usize, w as usize],
            input,
        )?;
        match out.shape.as_slice() {
            [1, frames, classes]
                if frames * classes == out.data.len() && *classes == self.model_classes =>
            {
                let data = out
                    .data
                    .chunks_exact(*classes)
                    .flat_map(|row| self.columns.iter().map(|&c| row[c]))
                    .collect();
                Ok(CharProbs {
                    data,
                    frames: *frames,
                    classes: self.columns.len(),
                })
            }
            shape => Err(InferError::BadOutput {
                model: MODEL,
                output: "0".into(),
                reason: format!(
                    "shape {shape:?}, expected [1, T, {}] (blank, dictionary, space)",
                    self.model_classes
                ),
            }),
        }
    }

    /// Reads the text of a crop.
    pub fn recognize(&self, crop: RgbView<'_>, mode: DecodeMode) -> Result<PlateText> {
        let probs = self.probabilities(crop)?;
        Ok(self.decode(&probs, mode))
    }

    pub fn decode(&self, probs: &CharProbs, mode: DecodeMode) -> PlateText {
        self.decode_with_prior(probs, mode, LengthPrior::NONE)
    }

    /// Decodes knowing how likely each plate length is (e.g. from the plate's colour).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_keeps_the_aspect_at_height_48_and_pads_to_160() {
        // A warped single plate (160x50) and a plates-dev crop (94x24).
        assert_eq!(input_size(160, 50), (154, 48, 160));
        assert_eq!(input_size(94, 24), (188, 48, 188));
        assert_eq!(input_size(20_000, 10), (1024, 48, 1024));
    }

    #[test]
    fn preprocess_is_bgr_in_minus_one_to_one_padded_with_zero() {
        // A 1x1 crop becomes 48x48 of one colour, padded to 160 with zeros.
        let data = [255u8, 0, 51];
        let (out, w) = preprocess(RgbView::new(1, 1, &data).unwrap()).unwrap();
        assert_eq!(w, 160);
        let plane = 160 * 48;
        assert_eq!(out.len(), plane * 3);
        assert!((out[0] - (51.0 / 127.5 - 1.0)).abs() < 1e-6); // B
        assert_eq!(out[plane], -1.0); // G
        assert_eq!(out[2 * plane], 1.0); // R
        assert_eq!(out[47], out[0]);
        assert_eq!(out[48], 0.0);
        assert_eq!(out[plane - 1], 0.0);
    }

    #[test]
    fn two_rows_read_as_one_line_top_first() {
        let top = CharProbs {
            data: vec![0.1, 0.9, 0.9, 0.1],
            frames: 2,
            classes: 2,
        };
        let bottom = CharProbs {
            data: vec![0.2, 0.8],
            frames: 1,
            classes: 2,
        };
        let both = top.then(&bottom);
        assert_eq!(both.frames, 3);
        assert_eq!(both.data, vec![0.1, 0.9, 0.9, 0.1, 0.2, 0.8]);
    }
}
