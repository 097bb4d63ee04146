//! Chinese plate text: colours, grammar and the scoring convention used in tests.
use serde::{Deserialize, Serialize};

use crate::Quad;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateColor {
    Blue,
    Yellow,
    Green,
    White,
    Black,
}

impl PlateColor {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlateColor::Blue => "blue",
            PlateColor::Yellow => "yellow",
            PlateColor::Green => "green",
            PlateColor::White => "white",
            PlateColor::Black => "black",
        }
    }
}

/// One plate found in one frame by the plate models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateObservation {
    pub corners: Quad,
    /// Detector score in 0..1.
    pub detection_score: f32,
    pub text: String,
    /// Recogniser confidence per character of `text`.
    pub char_confidences: Vec<f32>,
    pub color: PlateColor,
}

impl PlateObservation {
    /// Whole-read confidence: the weakest character bounds the read.
    pub fn text_confidence(&self) -> f32 {
        let weakest = self.char_confidences.iter().copied().reduce(f32::min);
        weakest.map_or(0.0, |c| c.clamp(0.0, 1.0))
    }
}

/// Province abbreviations that open a civil plate.
pub const PROVINCES: &str = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新";

/// True when `text` follows the civil plate grammar: province, letter, then five alphanumerics
/// (six for new-energy plates), with the letters I and O unused in serials. The final character
/// may also be 学 (driving school), 警 (police), 挂 (trailer), 港/澳 (cross-border) or 领/使.
pub fn is_valid_plate(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() != 7 && chars.len() != 8 {
        return false;
    }
    if !PROVINCES.contains(chars[0]) || !chars[1].is_ascii_uppercase() {
        return false;
    }
    let serial = &chars[2..];
    serial.iter().enumerate().all(|(i, &c)| {
        let alnum = (c.is_ascii_uppercase() || c.is_ascii_digit()) && c != 'I' && c != 'O';
        let last = i == serial.len() - 1;
        alnum || (last && chars.len() == 7 && "学警挂港澳领使".contains(c))
    })
}

/// The scoring convention of the plates-dev data: exact match with the letter O and digit 0 equal.
pub fn plates_match(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace('O', "0");
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_accepts_civil_and_new_energy_plates() {
        assert!(is_valid_plate("皖S12345"));
        assert!(is_valid_plate("皖AD11166"));
        assert!(is_valid_plate("粤B1234学"));
        assert!(!is_valid_plate("皖S1234"));
        assert!(!is_valid_plate("AS12345"));
        assert!(!is_valid_plate("皖1123456"));
        assert!(!is_valid_plate("皖SI2345"));
        assert!(!is_valid_plate("皖S123456789"));
    }

    #[test]
    fn scoring_treats_letter_o_as_zero() {
        assert!(plates_match("京PL3N67", "京PL3N67"));
        assert!(plates_match("京A0B123", "京AOB123"));
        assert!(!plates_match("京A8B123", "京AB8123"));
    }
}
