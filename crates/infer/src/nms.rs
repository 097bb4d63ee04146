//! Greedy non-maximum suppression.
use xl_schema::BBox;

/// Indices of the boxes kept, best score first: each box suppresses later, lower-scored boxes
/// that overlap it by more than `iou_threshold`.
pub fn nms(boxes: &[BBox], scores: &[f32], iou_threshold: f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len().min(scores.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut keep: Vec<usize> = Vec::new();
    for i in order {
        if keep
            .iter()
            .all(|&k| boxes[k].iou(&boxes[i]) <= iou_threshold)
        {
            keep.push(i);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_lower_scores_are_dropped() {
        let boxes = [
            BBox::new(0.0, 0.0, 10.0, 10.0),
            BBox::new(1.0, 0.0, 11.0, 10.0),
            BBox::new(50.0, 50.0, 60.0, 60.0),
            BBox::new(0.0, 5.0, 10.0, 15.0),
        ];
        let scores = [0.8, 0.9, 0.5, 0.7];
        // Box 3 overlaps box 1 by 45/155 < 0.4, so it survives.
        assert_eq!(nms(&boxes, &scores, 0.4), vec![1, 3, 2]);
        assert_eq!(nms(&boxes, &scores, 0.2), vec![1, 2]);
    }
}
