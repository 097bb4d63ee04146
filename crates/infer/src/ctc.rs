//! CTC decoding of the recogniser's per-frame class probabilities (class 0 is the blank).
//!
//! Greedy decoding takes each frame's best class. Grammar decoding finds the most probable frame
//! path whose collapsed text fits a plate template (Viterbi over CTC alignments): greedy's answer
//! whenever that is already a valid plate, and otherwise the best valid alternative.

/// Probabilities per frame: `frames * classes` values, row-major.
#[derive(Debug, Clone, Copy)]
pub struct CtcProbs<'a> {
    pub data: &'a [f32],
    pub frames: usize,
    pub classes: usize,
}

impl CtcProbs<'_> {
    #[inline]
    fn row(&self, t: usize) -> &[f32] {
        &self.data[t * self.classes..(t + 1) * self.classes]
    }
}

/// Class indices (1-based into the alphabet) and each one's confidence: the highest probability
/// it reached over the frames it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub labels: Vec<usize>,
    pub confidences: Vec<f32>,
    /// Log-probability of the frame path (a comparable score between candidate decodings).
    pub path_log_prob: f32,
}

const FLOOR: f32 = 1e-12;

/// Argmax per frame, collapse repeats, drop blanks.
pub fn greedy(p: CtcProbs<'_>) -> Decoded {
    let mut out = Decoded {
        labels: Vec::new(),
        confidences: Vec::new(),
        path_log_prob: 0.0,
    };
    let mut prev = 0usize;
    for t in 0..p.frames {
        let row = p.row(t);
        let (best, prob) =
            row.iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |a, (i, v)| if v > a.1 { (i, v) } else { a },
                );
        out.path_log_prob += prob.max(FLOOR).ln();
        if best != 0 && best != prev {
            out.labels.push(best);
            out.confidences.push(prob);
        } else if best != 0 {
            if let Some(c) = out.confidences.last_mut() {
                *c = c.max(prob);
            }
        }
        prev = best;
    }
    out
}

/// A fixed-length text pattern: the classes allowed at each position.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub allowed: Vec<Vec<bool>>,
}

#[derive(Clone, Copy)]
enum From {
    Start,
    Stay,
    Blank,
    Prev(u16),
}

/// Best CTC path whose text matches `template`; `None` if no path fits (too few frames).
pub fn constrained(p: CtcProbs<'_>, template: &Template) -> Option<Decoded> {
    let (t_len, c_len, l_len) = (p.frames, p.classes, template.allowed.len());
    if t_len == 0 || l_len == 0 || template.allowed.iter().any(|a| a.len() != c_len) {
        return None;
    }
    let neg = f32::NEG_INFINITY;
    let lp = |t: usize, c: usize| p.row(t)[c].max(FLOOR).ln();
    // emit[k][c]: inside character k with label c; blank[k]: k characters done, in a blank.
    let mut emit = vec![vec![neg; c_len]; l_len];
    let mut blank = vec![neg; l_len + 1];
    let mut back_emit = vec![vec![vec![From::Start; c_len]; l_len]; t_len];
    let mut back_blank = vec![vec![From::Start; l_len + 1]; t_len];
    blank[0] = lp(0, 0);
    for (c, slot) in emit[0].iter_mut().enumerate().skip(1) {
        if template.allowed[0][c] {
            *slot = lp(0, c);
        }
    }
    for t in 1..t_len {
        let mut next_emit = vec![vec![neg; c_len]; l_len];
        let mut next_blank = vec![neg; l_len + 1];
        for k in 0..=l_len {
            // Into blank[k]: stay, or finish character k-1.
            let mut best = (blank[k], From::Stay);
            if k > 0 {
                for (c, &v) in emit[k - 1].iter().enumerate() {
                    if v > best.0 {
                        best = (v, From::Prev(c as u16));
                    }
                }
            }
            if best.0 > neg {
                next_blank[k] = best.0 + lp(t, 0);
                back_blank[t][k] = best.1;
            }
        }
        for k in 0..l_len {
            // Best and second-best previous character, for a direct change of label.
            let (mut b1, mut b2) = ((neg, 0usize), (neg, 0usize));
            if k > 0 {
                for (c, &v) in emit[k - 1].iter().enumerate() {
                    if v > b1.0 {
                        b2 = b1;
                        b1 = (v, c);
                    } else if v > b2.0 {
                        b2 = (v, c);
                    }
                }
            }
            for c in 1..c_len {
                if !template.allowed[k][c] {
                    continue;
                }
                let mut best = (emit[k][c], From::Stay);
                if blank[k] > best.0 {
                    best = (blank[k], From::Blank);
                }
                let prev = if b1.1 != c { b1 } else { b2 };
                if prev.0 > best.0 {
                    best = (prev.0, From::Prev(prev.1 as u16));
                }
                if best.0 > neg {
                    next_emit[k][c] = best.0 + lp(t, c);
                    back_emit[t][k][c] = best.1;
                }
            }
        }
        emit = next_emit;
        blank = next_blank;
    }
    // End in the blank after the last character, or inside the last character.
    let mut end = (blank[l_len], None);
    for (c, &v) in emit[l_len - 1].iter().enumerate() {
        if v > end.0 {
            end = (v, Some(c));
        }
    }
    if end.0 == neg {
        return None;
    }
    // Walk back, collecting each character's label and its frames.
    let mut labels = vec![0usize; l_len];
    let mut conf = vec![0f32; l_len];
    let (mut k, mut cur) = (l_len, end.1);
    for t in (0..t_len).rev() {
        match cur {
            Some(c) => {
                let ki = k - 1;
                labels[ki] = c;
                conf[ki] = conf[ki].max(p.row(t)[c]);
                match back_emit[t][ki][c] {
                    From::Stay | From::Start => {}
                    From::Blank => {
                        k = ki;
                        cur = None;
                    }
                    From::Prev(pc) => {
                        k = ki;
                        cur = Some(pc as usize);
                    }
                }
            }
            None => match back_blank[t][k] {
                From::Stay | From::Start | From::Blank => {}
                From::Prev(pc) => cur = Some(pc as usize),
            },
        }
    }
    Some(Decoded {
        labels,
        confidences: conf,
        path_log_prob: end.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames given as (class, probability); the rest of each row shares what is left.
    fn probs(frames: &[(usize, f32)], classes: usize) -> Vec<f32> {
        frames
            .iter()
            .flat_map(|&(c, p)| {
                let rest = (1.0 - p) / (classes - 1) as f32;
                (0..classes).map(move |i| if i == c { p } else { rest })
            })
            .collect()
    }

    fn any_of(classes: usize, allowed: &[usize]) -> Vec<bool> {
        (0..classes).map(|c| allowed.contains(&c)).collect()
    }

    #[test]
    fn greedy_collapses_repeats_and_blanks() {
        let d = probs(
            &[(1, 0.9), (1, 0.95), (0, 0.9), (1, 0.8), (2, 0.7), (0, 0.9)],
            4,
        );
        let out = greedy(CtcProbs {
            data: &d,
            frames: 6,
            classes: 4,
        });
        assert_eq!(out.labels, vec![1, 1, 2]);
        assert_eq!(out.confidences, vec![0.95, 0.8, 0.7]);
    }

    #[test]
    fn constrained_equals_greedy_when_greedy_fits() {
        let d = probs(
            &[(1, 0.9), (0, 0.6), (2, 0.8), (2, 0.9), (3, 0.7), (0, 0.9)],
            4,
        );
        let p = CtcProbs {
            data: &d,
            frames: 6,
            classes: 4,
        };
        let all = any_of(4, &[1, 2, 3]);
        let t = Template {
            allowed: vec![all.clone(), all.clone(), all],
        };
        let c = constrained(p, &t).unwrap();
        let g = greedy(p);
        assert_eq!(c.labels, g.labels);
        assert_eq!(c.confidences, g.confidences);
        assert!((c.path_log_prob - g.path_log_prob).abs() < 1e-4);
    }

    #[test]
    fn constrained_replaces_a_forbidden_class_with_the_runner_up() {
        // Frame 2 favours class 3 (0.6) over class 2 (0.3); the template forbids 3 there.
        let mut d = probs(&[(1, 0.9), (0, 0.9), (3, 0.6), (0, 0.9)], 4);
        d[2 * 4 + 2] = 0.3;
        d[2 * 4 + 1] = 0.05;
        d[2 * 4] = 0.05;
        let p = CtcProbs {
            data: &d,
            frames: 4,
            classes: 4,
        };
        let t = Template {
            allowed: vec![any_of(4, &[1]), any_of(4, &[1, 2])],
        };
        let c = constrained(p, &t).unwrap();
        assert_eq!(c.labels, vec![1, 2]);
        assert!((c.confidences[1] - 0.3).abs() < 1e-6);
        assert_eq!(greedy(p).labels, vec![1, 3]);
    }

    #[test]
    fn constrained_can_split_a_run_into_a_double_letter_only_with_a_blank() {
        // "11" needs a blank between the two 1s; three frames allow 1, blank, 1.
        let d = probs(&[(1, 0.9), (1, 0.9), (1, 0.9)], 3);
        let p = CtcProbs {
            data: &d,
            frames: 3,
            classes: 3,
        };
        let one = any_of(3, &[1]);
        let c = constrained(
            p,
            &Template {
                allowed: vec![one.clone(), one.clone()],
            },
        )
        .unwrap();
        assert_eq!(c.labels, vec![1, 1]);
        // Two frames cannot hold "1 blank 1"; and four characters cannot fit in three frames.
        let p2 = CtcProbs {
            data: &d[..6],
            frames: 2,
            classes: 3,
        };
        assert!(constrained(
            p2,
            &Template {
                allowed: vec![one.clone(), one.clone()]
            }
        )
        .is_none());
        assert!(constrained(
            p,
            &Template {
                allowed: vec![one; 4]
            }
        )
        .is_none());
    }
}
