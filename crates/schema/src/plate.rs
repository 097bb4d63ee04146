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
    /// Two rows of characters (yellow rear plates of lorries and buses), as the detector says.
    #[serde(default)]
    pub double_layer: bool,
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
/// with the letters I and O unused (the last may also be 学 driving school, 警 police, 挂 trailer,
/// 港/澳 cross-border or 领/使), or for green new-energy plates (GA 36-2018) six characters: D or F,
/// a letter or digit and four digits (small vehicles), or five digits and D or F (large vehicles).
pub fn is_valid_plate(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() != 7 && chars.len() != 8 {
        return false;
    }
    if !PROVINCES.contains(chars[0]) || !chars[1].is_ascii_uppercase() {
        return false;
    }
    let alnum = |c: char| (c.is_ascii_uppercase() || c.is_ascii_digit()) && c != 'I' && c != 'O';
    let energy = |c: char| c == 'D' || c == 'F';
    let digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    let serial = &chars[2..];
    if serial.len() == 6 {
        let small = energy(serial[0]) && alnum(serial[1]) && digits(&serial[2..]);
        let large = digits(&serial[..5]) && energy(serial[5]);
        return small || large;
    }
    let (body, last) = serial.split_at(4);
    body.iter().all(|&c| alnum(c)) && (alnum(last[0]) || "学警挂港澳领使".contains(last[0]))
}

/// Stands for a character that the reads of a vehicle pass did not agree on (the plate tracker
/// elects a character only by majority), as in `?G6NN34`.
pub const UNREAD_CHAR: char = '?';

/// True when some character of `text` was left unread.
pub fn is_partial_plate(text: &str) -> bool {
    text.contains(UNREAD_CHAR)
}

/// True when `read`, with its unread characters standing for any character, fits `plate`, and
/// at most `max_unread` of them are unread. The letter O and digit 0 are equal, as in
/// [`plates_match`].
pub fn fits_plate(read: &str, plate: &str, max_unread: usize) -> bool {
    let norm = |c: char| if c == 'O' { '0' } else { c };
    let (mut read, mut plate) = (read.chars(), plate.chars());
    let mut unread = 0;
    loop {
        match (read.next(), plate.next()) {
            (None, None) => return unread <= max_unread,
            (Some(UNREAD_CHAR), Some(_)) => unread += 1,
            (Some(r), Some(p)) if norm(r) == norm(p) => {}
            _ => return false,
        }
    }
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
    fn a_partial_read_fits_the_plates_that_agree_on_what_was_read() {
        assert!(is_partial_plate("?G6NN34") && !is_partial_plate("新G6NN34"));
        assert!(fits_plate("?G6NN34", "新G6NN34", 1));
        assert!(fits_plate("?G6NN3?", "新G6NN34", 2));
        assert!(!fits_plate("?G6NN3?", "新G6NN34", 1), "too much unread");
        assert!(
            !fits_plate("?G6NN35", "新G6NN34", 1),
            "a read character differs"
        );
        assert!(!fits_plate("?G6NN3", "新G6NN34", 1), "length differs");
        assert!(fits_plate("皖SO1234", "皖S01234", 0), "O and 0 are one");
    }

    #[test]
    fn grammar_accepts_civil_and_new_energy_plates() {
        assert!(is_valid_plate("皖S12345"));
        assert!(is_valid_plate("皖AD11166"));
        assert!(is_valid_plate("粤B1234学"));
        assert!(
            is_valid_plate("皖AFS1234"),
            "small new-energy: D/F, alnum, four digits"
        );
        assert!(
            is_valid_plate("皖A12345D"),
            "large new-energy: five digits, D/F"
        );
        assert!(
            !is_valid_plate("皖SF2412S"),
            "new-energy serial must end in four digits"
        );
        assert!(!is_valid_plate("皖AS04N99"), "8 characters need D/F");
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
