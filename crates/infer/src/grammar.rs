//! Chinese plate grammar as CTC templates: province, letter, then five alphanumerics (the last
//! possibly 学/警/挂/港/澳/领/使), or on green new-energy plates six characters in the GA 36-2018
//! forms: D/F, a letter or digit and four digits (small vehicles), or five digits and D/F (large).
use xl_schema::plate::PROVINCES;

use crate::alphabet::Alphabet;
use crate::ctc::{constrained, greedy, CtcProbs, Decoded, Template};

const SPECIAL_LAST: &str = "学警挂港澳领使";

/// Every symbol a civil plate can carry, in a fixed order: the provinces, A-Z and 0-9 (I and O
/// too: they stand in the letter position), then the special last characters. The recogniser
/// reads these and nothing else.
pub fn plate_symbols() -> Vec<char> {
    PROVINCES
        .chars()
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain(SPECIAL_LAST.chars())
        .collect()
}

/// How likely a 7- and an 8-character plate are before the characters are read. Plate colour
/// says a lot: blue and yellow plates carry 7 characters, green new-energy plates 8 (yellow-green
/// plates of large new-energy vehicles are the exception, hence soft priors, not rules).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LengthPrior {
    /// Probability of an 8-character plate; 0.5 is no preference.
    pub eight: f32,
}

impl LengthPrior {
    pub const NONE: LengthPrior = LengthPrior { eight: 0.5 };

    pub fn for_color(color: xl_schema::PlateColor) -> Self {
        use xl_schema::PlateColor::*;
        let eight = match color {
            Blue => 0.03,
            Yellow => 0.10,
            Green => 0.95,
            White | Black => 0.5,
        };
        LengthPrior { eight }
    }

    /// Log-weight relative to no preference, so `NONE` adds nothing.
    fn log_weight(&self, len: usize) -> f32 {
        let p = if len == 8 {
            self.eight
        } else {
            1.0 - self.eight
        };
        (p.clamp(1e-4, 1.0) / 0.5).ln()
    }
}

/// The plate templates over one alphabet.
#[derive(Debug, Clone)]
pub struct PlateGrammar {
    templates: Vec<Template>,
}

impl PlateGrammar {
    pub fn new(alphabet: &Alphabet) -> Self {
        let classes = alphabet.len() + 1;
        let set = |pred: &dyn Fn(char) -> bool| -> Vec<bool> {
            (0..classes)
                .map(|l| alphabet.char_of(l).is_some_and(pred))
                .collect()
        };
        let serial =
            |c: char| (c.is_ascii_uppercase() || c.is_ascii_digit()) && c != 'I' && c != 'O';
        let province = set(&|c| PROVINCES.contains(c));
        let letter = set(&|c| c.is_ascii_uppercase());
        let alnum = set(&serial);
        let last7 = set(&|c| serial(c) || SPECIAL_LAST.contains(c));
        let mut seven = vec![province.clone(), letter.clone()];
        seven.extend(std::iter::repeat_n(alnum.clone(), 4));
        seven.push(last7);
        // New-energy plates (GA 36-2018): small vehicles D/F, a letter or digit, four digits;
        // large vehicles five digits, then D/F.
        let energy = set(&|c| c == 'D' || c == 'F');
        let digit = set(&|c| c.is_ascii_digit());
        let mut small = vec![province.clone(), letter.clone(), energy.clone(), alnum];
        small.extend(std::iter::repeat_n(digit.clone(), 4));
        let mut large = vec![province, letter];
        large.extend(std::iter::repeat_n(digit, 5));
        large.push(energy);
        Self {
            templates: vec![
                Template { allowed: seven },
                Template { allowed: small },
                Template { allowed: large },
            ],
        }
    }

    /// The most probable reading that is a valid plate, or greedy's reading when no template fits
    /// the frames (then the second value is false). `prior` weighs the two plate lengths; its
    /// log-weight is added to the returned `path_log_prob` so readings stay comparable.
    pub fn decode(&self, probs: CtcProbs<'_>, prior: LengthPrior) -> (Decoded, bool) {
        let best = self
            .templates
            .iter()
            .filter_map(|t| {
                let mut d = constrained(probs, t)?;
                d.path_log_prob += prior.log_weight(t.allowed.len());
                Some(d)
            })
            .max_by(|a, b| a.path_log_prob.total_cmp(&b.path_log_prob));
        match best {
            Some(d) => (d, true),
            None => (greedy(probs), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plate_symbols_are_distinct_provinces_letters_digits_and_suffixes() {
        let symbols = plate_symbols();
        let distinct: std::collections::HashSet<char> = symbols.iter().copied().collect();
        assert_eq!(distinct.len(), symbols.len());
        assert_eq!(symbols.len(), 31 + 36 + 7);
    }

    #[test]
    fn colour_priors_favour_the_usual_plate_length() {
        use xl_schema::PlateColor;
        let blue = LengthPrior::for_color(PlateColor::Blue);
        let green = LengthPrior::for_color(PlateColor::Green);
        assert!(blue.log_weight(7) > 0.0 && blue.log_weight(8) < -2.0);
        assert!(green.log_weight(8) > 0.0 && green.log_weight(7) < -2.0);
        assert_eq!(LengthPrior::NONE.log_weight(7), 0.0);
        assert_eq!(LengthPrior::NONE.log_weight(8), 0.0);
    }

    /// One frame per character with a blank between; `alt` gives a second class at a frame.
    fn probs(a: &Alphabet, text: &str, alt: Option<(usize, char, f32)>) -> Vec<f32> {
        let classes = a.len() + 1;
        let mut rows = Vec::new();
        for (i, c) in text.chars().enumerate() {
            let mut row = vec![0.001f32; classes];
            let label = a.label_of(c).unwrap();
            row[label] = 0.9;
            if let Some((_, other, p)) = alt.filter(|x| x.0 == i) {
                row[label] = 0.6;
                row[a.label_of(other).unwrap()] = p;
            }
            rows.extend(row);
            let mut blank = vec![0.001f32; classes];
            blank[0] = 0.9;
            rows.extend(blank);
        }
        rows
    }

    #[test]
    fn misread_letter_position_is_corrected_and_valid_reads_kept() {
        let a = Alphabet::parse(
            &"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ京皖学"
                .chars()
                .map(|c| format!("{c}\n"))
                .collect::<String>(),
        )
        .unwrap();
        let g = PlateGrammar::new(&a);
        let decode = |d: &[f32]| {
            let (out, valid) = g.decode(
                CtcProbs {
                    data: d,
                    frames: d.len() / (a.len() + 1),
                    classes: a.len() + 1,
                },
                LengthPrior::NONE,
            );
            (a.text(&out.labels), valid)
        };
        // The second character must be a letter: 8 (0.6) loses to B (0.35).
        let d = probs(&a, "京812345", Some((1, 'B', 0.35)));
        assert_eq!(
            greedy(CtcProbs {
                data: &d,
                frames: d.len() / (a.len() + 1),
                classes: a.len() + 1
            })
            .labels
            .len(),
            7
        );
        assert_eq!(decode(&d), ("京B12345".to_string(), true));
        // Valid 7- and 8-character plates come back unchanged.
        assert_eq!(
            decode(&probs(&a, "皖AD11166", None)),
            ("皖AD11166".to_string(), true)
        );
        assert_eq!(
            decode(&probs(&a, "京A1234学", None)),
            ("京A1234学".to_string(), true)
        );
    }
}
