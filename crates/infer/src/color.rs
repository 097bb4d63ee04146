//! Plate colour: HyperLPR3's classifier (`litemodel_cls_96x_r1.onnx`) tells blue, green and
//! yellow plates apart; the text, once read, names the colours the classifier was not trained on
//! (white police plates, black Hong Kong/Macao and consular plates), as HyperLPR3's
//! `code_filter` does.
use std::path::Path;

use xl_schema::PlateColor;

use crate::error::{InferError, Result};
use crate::image::{resize_rgb, RgbView};
use crate::runtime::OnnxModel;

const MODEL: &str = "plate_classifier";
const SIDE: u32 = 96;
/// The classifier's classes, in output order (HyperLPR3 `typedef.py`: PLATE_TYPE_BLUE = 0,
/// PLATE_TYPE_GREEN = 1, PLATE_TYPE_YELLOW = 2).
const CLASSES: [PlateColor; 3] = [PlateColor::Blue, PlateColor::Green, PlateColor::Yellow];

#[derive(Debug)]
pub struct PlateColorClassifier {
    model: OnnxModel,
    /// The model's input name (`data` in HyperLPR3's export).
    input: String,
}

/// NCHW float input: the plate resized to 96x96, BGR, scaled to 0..1.
pub fn preprocess(plate: RgbView<'_>) -> Result<Vec<f32>> {
    let resized = resize_rgb(plate, SIDE, SIDE)?;
    let plane = (SIDE * SIDE) as usize;
    let mut out = vec![0f32; plane * 3];
    for (i, px) in resized.data.chunks_exact(3).enumerate() {
        out[i] = f32::from(px[2]) / 255.0;
        out[plane + i] = f32::from(px[1]) / 255.0;
        out[2 * plane + i] = f32::from(px[0]) / 255.0;
    }
    Ok(out)
}

impl PlateColorClassifier {
    /// Loads the model and checks its input and output shapes, naming the file if they differ.
    pub fn load(path: &Path, intra_threads: usize) -> Result<Self> {
        let model = OnnxModel::load(MODEL, path, intra_threads)?;
        let expected =
            "one [1, 3, 96, 96] input and a [1, 3] output (HyperLPR3 litemodel_cls_96x_r1.onnx)";
        let unexpected = |reason: String| InferError::UnexpectedModel {
            model: MODEL,
            path: path.to_path_buf(),
            reason: format!("{reason}, expected {expected}"),
        };
        let input = match model.inputs() {
            [(name, shape)] if shape.as_slice() == [1, 3, 96, 96] => name.clone(),
            inputs => {
                let shapes: Vec<_> = inputs.iter().map(|i| &i.1).collect();
                return Err(unexpected(format!("inputs {shapes:?}")));
            }
        };
        let classifier = Self { model, input };
        let grey = vec![128u8; (SIDE * SIDE * 3) as usize];
        match classifier.scores(RgbView::new(SIDE, SIDE, &grey)?) {
            Ok(_) => Ok(classifier),
            Err(InferError::BadOutput { reason, .. }) => Err(unexpected(reason)),
            Err(InferError::Run { source, .. }) => Err(unexpected(source.to_string())),
            Err(e) => Err(e),
        }
    }

    /// The probability of blue, green and yellow for a rectified plate of any size.
    pub fn scores(&self, plate: RgbView<'_>) -> Result<[f32; 3]> {
        let input = preprocess(plate)?;
        let s = SIDE as usize;
        let out = self.model.run_last(&self.input, [1, 3, s, s], input)?;
        <[f32; 3]>::try_from(out.data.as_slice()).map_err(|_| InferError::BadOutput {
            model: MODEL,
            output: "output".into(),
            reason: format!("shape {:?}", out.shape),
        })
    }

    /// Blue, green or yellow, whichever the classifier finds most probable.
    pub fn classify(&self, plate: RgbView<'_>) -> Result<PlateColor> {
        let scores = self.scores(plate)?;
        let best = (0..CLASSES.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap_or(0);
        Ok(CLASSES[best])
    }
}

/// The colour a plate's text implies, where it implies one: police plates (警) are white; Hong
/// Kong and Macao plates (港, 澳) and consular and embassy plates (领, 使) black; an 8-character
/// plate is a green new-energy plate; otherwise the classifier's colour stands.
pub fn color_for_text(text: &str, classified: PlateColor) -> PlateColor {
    match text.chars().last() {
        Some('警') => PlateColor::White,
        Some('港' | '澳' | '领' | '使') => PlateColor::Black,
        _ if text.chars().count() == 8 => PlateColor::Green,
        _ => classified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preprocess_is_bgr_over_255_at_96() {
        let data = [255u8, 0, 51];
        let out = preprocess(RgbView::new(1, 1, &data).unwrap()).unwrap();
        let plane = 96 * 96;
        assert_eq!(out.len(), 3 * plane);
        assert!((out[0] - 0.2).abs() < 1e-6 && (out[plane - 1] - 0.2).abs() < 1e-6);
        assert_eq!(out[plane], 0.0);
        assert_eq!(out[2 * plane], 1.0);
    }

    #[test]
    fn the_text_names_the_colours_the_classifier_does_not_know() {
        use PlateColor::*;
        assert_eq!(color_for_text("皖A1234警", Blue), White);
        assert_eq!(color_for_text("粤Z1234港", Yellow), Black);
        assert_eq!(color_for_text("沪A1234领", Blue), Black);
        assert_eq!(color_for_text("皖AD12345", Blue), Green);
        assert_eq!(color_for_text("皖A1234学", Yellow), Yellow);
        assert_eq!(color_for_text("皖A12345", Yellow), Yellow);
        assert_eq!(color_for_text("?A12345", Blue), Blue);
    }
}
