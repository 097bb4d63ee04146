//! Scoring how well a detection continues a track, and choosing one-to-one matches.
use xl_schema::BBox;

/// When a detection may continue a track whose box is predicted at some place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gate {
    /// Minimum IoU of the predicted box and the detection's box (and always some overlap).
    pub min_iou: f32,
    /// Below `min_iou`, the detection still matches when its centre is within this fraction of the
    /// predicted box's diagonal from the predicted centre (0 turns this off)...
    pub centre_gate: f32,
    /// ...and its width and height are each within this factor of the predicted ones.
    pub max_size_ratio: f32,
}

/// Added to an IoU match's score so that it ranks above every centre-distance match (in `[0, 1]`).
const IOU_MATCH_BASE: f32 = 2.0;

/// How well a detection box continues a track predicted at `predicted`, higher is better, or None
/// when it cannot. Any IoU match scores above any centre-distance match: the latter only exists for
/// fast vehicles that moved more than about a box height between analysed frames.
pub(crate) fn affinity(predicted: &BBox, detected: &BBox, gate: &Gate) -> Option<f32> {
    let iou = predicted.iou(detected);
    if iou > 0.0 && iou >= gate.min_iou {
        return Some(IOU_MATCH_BASE + iou);
    }
    let (pw, ph) = (predicted.width(), predicted.height());
    let reach = gate.centre_gate * pw.hypot(ph);
    if reach.is_nan() || reach <= 0.0 {
        return None;
    }
    let (px, py) = predicted.center();
    let (dx, dy) = detected.center();
    let distance = (px - dx).hypot(py - dy);
    let similar = |a: f32, b: f32| a.max(b) <= gate.max_size_ratio * a.min(b);
    let near = distance <= reach;
    (near && similar(pw, detected.width()) && similar(ph, detected.height()))
        .then(|| 1.0 - distance / reach)
}

/// A possible match of track `track` with detection `detection` (indices into the caller's lists).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub score: f32,
    pub track: usize,
    pub detection: usize,
}

/// Greedy one-to-one assignment: repeatedly takes the best-scoring candidate whose track and
/// detection are both still free. Ties go to the lower track index (older track), then the lower
/// detection index, so the result depends only on the inputs.
///
/// Greedy rather than Hungarian: at a checkpoint a frame holds a handful of vehicles and the gates
/// already exclude most pairs, so real conflicts are rare; where one occurs, greedy gives the most
/// certain pair (usually a track seen in the previous frame, predicted well) its detection, whereas
/// maximising the summed score may hand it to a lost track's vaguer prediction to gain elsewhere.
pub(crate) fn greedy_assign(
    mut candidates: Vec<Candidate>,
    tracks: usize,
    detections: usize,
) -> Vec<(usize, usize)> {
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.track.cmp(&b.track))
            .then(a.detection.cmp(&b.detection))
    });
    let mut track_taken = vec![false; tracks];
    let mut detection_taken = vec![false; detections];
    let mut pairs = Vec::new();
    for c in candidates {
        if !track_taken[c.track] && !detection_taken[c.detection] {
            track_taken[c.track] = true;
            detection_taken[c.detection] = true;
            pairs.push((c.track, c.detection));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATE: Gate = Gate {
        min_iou: 0.2,
        centre_gate: 0.5,
        max_size_ratio: 1.6,
    };

    #[test]
    fn any_overlap_match_outranks_any_centre_match() {
        let predicted = BBox::new(0.0, 0.0, 200.0, 150.0);
        // Just over the IoU threshold.
        let overlapping = BBox::new(0.0, 95.0, 200.0, 245.0);
        assert!(predicted.iou(&overlapping) >= 0.2);
        // Shifted a little further: too little overlap, but its centre is within reach.
        let close = BBox::new(0.0, 120.0, 200.0, 270.0);
        assert!(predicted.iou(&close) < 0.2);
        let a = affinity(&predicted, &overlapping, &GATE).unwrap();
        let b = affinity(&predicted, &close, &GATE).unwrap();
        assert!(a > b);
    }

    #[test]
    fn centre_match_needs_nearness_and_a_similar_size() {
        let predicted = BBox::new(0.0, 0.0, 200.0, 150.0); // diagonal 250, reach 125
        let far = BBox::new(0.0, 130.0, 200.0, 280.0); // centre 130 away
        assert_eq!(affinity(&predicted, &far, &GATE), None);
        // Same centre but 2.5 times the size: a different (closer) vehicle, not this one.
        let big = BBox::new(-150.0, -112.0, 350.0, 263.0);
        assert!(predicted.iou(&big) < 0.2);
        assert_eq!(affinity(&predicted, &big, &GATE), None);
        let off = Gate {
            centre_gate: 0.0,
            ..GATE
        };
        assert_eq!(
            affinity(&predicted, &BBox::new(0.0, 120.0, 200.0, 270.0), &off),
            None
        );
    }

    #[test]
    fn greedy_takes_the_best_pair_first_and_uses_each_side_once() {
        let c = |score, track, detection| Candidate {
            score,
            track,
            detection,
        };
        let pairs = greedy_assign(
            vec![c(0.5, 0, 0), c(0.9, 1, 0), c(0.4, 0, 1), c(0.8, 1, 1)],
            2,
            2,
        );
        assert_eq!(pairs, vec![(1, 0), (0, 1)]);
        // Ties: older track first.
        let pairs = greedy_assign(vec![c(0.7, 1, 0), c(0.7, 0, 0)], 2, 1);
        assert_eq!(pairs, vec![(0, 0)]);
    }
}
