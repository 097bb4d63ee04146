//! Plane geometry in image pixels (x right, y down): polygons, line sides, segment crossings.
//! Computed in `f64` so that source-frame coordinates of 4K images stay exact.
use xl_schema::BBox;

/// A point `[x, y]` in source-frame pixels.
pub type Point = [f32; 2];

/// The point a vehicle stands on: the middle of its box's bottom edge.
pub fn bottom_centre(bbox: &BBox) -> Point {
    [(bbox.x1 + bbox.x2) / 2.0, bbox.y2]
}

/// Which side of a directed line a point lies on, as seen on screen (image y points down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
    On,
}

/// Cross product of `to - from` and `p - from`. In image coordinates (y down) it is positive
/// when `p` is to the right of the line walking from `from` to `to`, as seen on screen.
pub fn cross(from: Point, to: Point, p: Point) -> f64 {
    let (ax, ay) = (f64::from(from[0]), f64::from(from[1]));
    let (bx, by) = (f64::from(to[0]), f64::from(to[1]));
    let (px, py) = (f64::from(p[0]), f64::from(p[1]));
    (bx - ax) * (py - ay) - (by - ay) * (px - ax)
}

/// The side of the directed line `from -> to` that `p` lies on, as seen on screen.
pub fn side_of_line(from: Point, to: Point, p: Point) -> Side {
    let c = cross(from, to, p);
    if c > 0.0 {
        Side::Right
    } else if c < 0.0 {
        Side::Left
    } else {
        Side::On
    }
}

/// True when `p` lies on the closed segment `a-b`.
pub fn on_segment(a: Point, b: Point, p: Point) -> bool {
    cross(a, b, p) == 0.0 && within_box(a, b, p)
}

fn within_box(a: Point, b: Point, p: Point) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// True when the closed segments `p1-p2` and `q1-q2` share at least one point (touching and
/// collinear overlap included).
pub fn segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    let straddles = |a: f64, b: f64| (a > 0.0 && b < 0.0) || (a < 0.0 && b > 0.0);
    if straddles(d1, d2) && straddles(d3, d4) {
        return true;
    }
    (d1 == 0.0 && within_box(q1, q2, p1))
        || (d2 == 0.0 && within_box(q1, q2, p2))
        || (d3 == 0.0 && within_box(p1, p2, q1))
        || (d4 == 0.0 && within_box(p1, p2, q2))
}

/// Point in polygon by ray casting (even-odd rule); points on an edge or a vertex count as
/// inside. The polygon is closed implicitly (last point joins the first); fewer than 3 points
/// contain nothing.
pub fn point_in_polygon(p: Point, polygon: &[Point]) -> bool {
    if polygon.len() < 3 {
        return false;
    }
    let (px, py) = (f64::from(p[0]), f64::from(p[1]));
    let mut inside = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if on_segment(a, b, p) {
            return true;
        }
        let (ax, ay) = (f64::from(a[0]), f64::from(a[1]));
        let (bx, by) = (f64::from(b[0]), f64::from(b[1]));
        if (ay > py) != (by > py) {
            let x_at = ax + (py - ay) * (bx - ax) / (by - ay);
            if px < x_at {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: [Point; 4] = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];

    #[test]
    fn polygon_interior_edges_and_vertices_are_inside() {
        assert!(point_in_polygon([5.0, 5.0], &SQUARE));
        assert!(point_in_polygon([0.0, 5.0], &SQUARE), "left edge");
        assert!(point_in_polygon([10.0, 10.0], &SQUARE), "vertex");
        assert!(point_in_polygon([5.0, 10.0], &SQUARE), "closing edge");
        assert!(!point_in_polygon([10.001, 5.0], &SQUARE));
        assert!(!point_in_polygon([-1.0, -1.0], &SQUARE));
        assert!(!point_in_polygon([5.0, 5.0], &SQUARE[..2]), "degenerate");
    }

    #[test]
    fn concave_polygon() {
        // A "U": the notch between the arms is outside.
        let u = [
            [0.0, 0.0],
            [3.0, 0.0],
            [3.0, 7.0],
            [7.0, 7.0],
            [7.0, 0.0],
            [10.0, 0.0],
            [10.0, 10.0],
            [0.0, 10.0],
        ];
        assert!(!point_in_polygon([5.0, 3.0], &u));
        assert!(point_in_polygon([1.0, 3.0], &u));
        assert!(point_in_polygon([5.0, 8.0], &u));
        assert!(point_in_polygon([5.0, 7.0], &u), "on the notch's floor");
    }

    #[test]
    fn side_is_as_seen_on_screen_with_y_down() {
        // A line pointing right across the screen: above it (smaller y) is its left side.
        let (from, to) = ([0.0, 100.0], [100.0, 100.0]);
        assert_eq!(side_of_line(from, to, [50.0, 50.0]), Side::Left);
        assert_eq!(side_of_line(from, to, [50.0, 150.0]), Side::Right);
        assert_eq!(side_of_line(from, to, [500.0, 100.0]), Side::On);
    }

    #[test]
    fn segments_cross_touch_and_miss() {
        assert!(segments_intersect(
            [0.0, 0.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [10.0, 0.0]
        ));
        assert!(
            segments_intersect([0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [9.0, 0.0]),
            "touch"
        );
        assert!(
            segments_intersect([0.0, 0.0], [5.0, 0.0], [3.0, 0.0], [9.0, 0.0]),
            "overlap"
        );
        assert!(
            !segments_intersect([0.0, 0.0], [2.0, 0.0], [3.0, 0.0], [9.0, 0.0]),
            "collinear gap"
        );
        assert!(
            !segments_intersect([0.0, 0.0], [10.0, 0.0], [11.0, -1.0], [11.0, 1.0]),
            "beyond end"
        );
        assert!(
            !segments_intersect([0.0, 0.0], [10.0, 0.0], [0.0, 1.0], [10.0, 1.0]),
            "parallel"
        );
    }

    #[test]
    fn bottom_centre_is_middle_of_bottom_edge() {
        assert_eq!(
            bottom_centre(&BBox::new(10.0, 20.0, 30.0, 80.0)),
            [20.0, 80.0]
        );
    }
}
