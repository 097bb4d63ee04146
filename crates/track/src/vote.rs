//! Electing a track's text from its per-frame reads.
use std::collections::HashMap;

use xl_schema::plate::{is_valid_plate, UNREAD_CHAR};

/// Reads that break the plate grammar still vote, but count for less: they are usually misreads.
const INVALID_READ_WEIGHT: f32 = 0.25;

#[derive(Debug, Clone, PartialEq)]
pub struct VoteResult {
    /// The elected text; a position whose reads gave no character a majority holds
    /// [`UNREAD_CHAR`].
    pub text: String,
    /// Share of the voting weight that agrees with the elected text, character by character.
    pub confidence: f32,
}

/// Confidence-weighted vote: first the length (7 or 8 characters) with the most weight, then each
/// position's character by weight among reads of that length. `reads` are (text, confidence).
///
/// A character is elected only when it holds more than `min_agreement` of its position's weight;
/// otherwise the position is reported unread. A recogniser that cannot read a glyph (a rare
/// province, a smudged letter) scatters its guesses over look-alikes, and the one that happens to
/// come out ahead is as likely wrong as right: a wrong plate sends a watch-list hit or a cloned-plate
/// alert after another vehicle, while `?G6NN34` asserts only what was read.
pub fn vote<'a>(
    reads: impl IntoIterator<Item = (&'a str, f32)>,
    min_agreement: f32,
) -> Option<VoteResult> {
    let reads: Vec<(Vec<char>, f32)> = reads
        .into_iter()
        .filter(|(t, _)| !t.is_empty())
        .map(|(t, c)| {
            let w = c.clamp(0.0, 1.0)
                * if is_valid_plate(t) {
                    1.0
                } else {
                    INVALID_READ_WEIGHT
                };
            (t.chars().collect(), w.max(1e-6))
        })
        .collect();
    let mut by_len: HashMap<usize, f32> = HashMap::new();
    for (chars, w) in &reads {
        *by_len.entry(chars.len()).or_default() += w;
    }
    // Ties go to the longer length so that 8-character green plates are not truncated.
    let (&len, _) = by_len
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(b.0)))?;
    let same_len: Vec<&(Vec<char>, f32)> = reads.iter().filter(|(c, _)| c.len() == len).collect();
    let total: f32 = same_len.iter().map(|(_, w)| w).sum();
    let mut text = String::with_capacity(len * 3);
    let mut agreement = 0.0;
    for pos in 0..len {
        let mut weights: Vec<(char, f32)> = Vec::new();
        for (chars, w) in &same_len {
            match weights.iter_mut().find(|(c, _)| *c == chars[pos]) {
                Some(entry) => entry.1 += w,
                None => weights.push((chars[pos], *w)),
            }
        }
        // Deterministic tie-break on the character itself.
        let (c, w) = weights
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
        let share = w / total;
        text.push(if share > min_agreement {
            c
        } else {
            UNREAD_CHAR
        });
        agreement += share;
    }
    let all: f32 = reads.iter().map(|(_, w)| w).sum();
    let confidence = (agreement / len as f32) * (total / all);
    Some(VoteResult { text, confidence })
}

#[cfg(test)]
mod tests {
    use xl_schema::plate::is_partial_plate;

    use super::*;

    const MAJORITY: f32 = 0.5;

    #[test]
    fn majority_by_confidence_wins_per_position() {
        let r = vote(
            [
                ("皖S12345", 0.9),
                ("皖S12845", 0.6),
                ("皖S12345", 0.8),
                ("皖S1234", 0.95),
            ],
            MAJORITY,
        )
        .unwrap();
        assert_eq!(r.text, "皖S12345");
        assert!(r.confidence > 0.5 && r.confidence < 1.0, "{}", r.confidence);
    }

    #[test]
    fn characters_can_be_corrected_across_reads() {
        // No single read is right, but each position's majority is.
        let r = vote(
            [
                ("皖S12B45", 0.8),
                ("皖S12345", 0.5),
                ("皖S1Z345", 0.3),
                ("皖S12345", 0.4),
            ],
            MAJORITY,
        )
        .unwrap();
        assert_eq!(r.text, "皖S12345");
    }

    #[test]
    fn grammatical_reads_outweigh_ungrammatical_ones() {
        let r = vote([("1S12345", 0.9), ("皖S12345", 0.5)], MAJORITY).unwrap();
        assert_eq!(r.text, "皖S12345");
    }

    #[test]
    fn a_position_without_a_majority_is_reported_unread() {
        // The recogniser cannot read this province glyph and scatters its guesses over look-alikes.
        let reads = [
            ("皖G6NN34", 0.55),
            ("鲁G6NN34", 0.53),
            ("浙G6NN34", 0.6),
            ("皖G6NN34", 0.73),
            ("鲁G6NN34", 0.74),
            ("鲁G6NN34", 0.56),
        ];
        let r = vote(reads, MAJORITY).unwrap();
        assert_eq!(r.text, "?G6NN34");
        assert!(is_partial_plate(&r.text));
        // With the rule off, the strongest guess is elected however weak its lead.
        assert_eq!(vote(reads, 0.0).unwrap().text, "鲁G6NN34");
    }

    #[test]
    fn empty_input_elects_nothing() {
        assert_eq!(vote(Vec::<(&str, f32)>::new(), MAJORITY), None);
        assert_eq!(vote([("", 0.9)], MAJORITY), None);
    }
}
