use serde::{Deserialize, Serialize};

/// Axis-aligned box in image pixels: `[x1, y1, x2, y2]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "[f32; 4]", into = "[f32; 4]")]
pub struct BBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl BBox {
    pub fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self { x1, y1, x2, y2 }
    }

    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn center(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }

    fn intersection(&self, other: &BBox) -> f32 {
        let ix = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let iy = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        ix * iy
    }

    /// Intersection over union; 0 for disjoint or degenerate boxes.
    pub fn iou(&self, other: &BBox) -> f32 {
        let inter = self.intersection(other);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    /// Share of the smaller box that lies inside the other (1 when one holds the other); 0 for
    /// disjoint or degenerate boxes.
    pub fn overlap_of_smaller(&self, other: &BBox) -> f32 {
        let smaller = self.area().min(other.area());
        if smaller <= 0.0 {
            0.0
        } else {
            self.intersection(other) / smaller
        }
    }
}

impl From<[f32; 4]> for BBox {
    fn from(v: [f32; 4]) -> Self {
        Self::new(v[0], v[1], v[2], v[3])
    }
}

impl From<BBox> for [f32; 4] {
    fn from(b: BBox) -> Self {
        [b.x1, b.y1, b.x2, b.y2]
    }
}

/// Four corners of a plate in image pixels, ordered top-left, top-right, bottom-right, bottom-left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quad(pub [[f32; 2]; 4]);

impl Quad {
    pub fn bbox(&self) -> BBox {
        let xs = self.0.map(|p| p[0]);
        let ys = self.0.map(|p| p[1]);
        let min = |v: [f32; 4]| v.into_iter().fold(f32::INFINITY, f32::min);
        let max = |v: [f32; 4]| v.into_iter().fold(f32::NEG_INFINITY, f32::max);
        BBox::new(min(xs), min(ys), max(xs), max(ys))
    }

    /// Maps every corner through `f` (e.g. rescaling from analysis size to source size).
    pub fn map(&self, f: impl Fn([f32; 2]) -> [f32; 2]) -> Quad {
        Quad(self.0.map(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_boxes_is_one_and_of_disjoint_is_zero() {
        let a = BBox::new(0.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        assert_eq!(a.iou(&BBox::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        let half = BBox::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&half) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn quad_bbox_spans_all_corners() {
        let q = Quad([[1.0, 2.0], [9.0, 1.0], [10.0, 5.0], [0.5, 6.0]]);
        assert_eq!(q.bbox(), BBox::new(0.5, 1.0, 10.0, 6.0));
    }
}
