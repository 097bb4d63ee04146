//! Perspective rectification of a plate: its four corners onto an upright rectangle (the
//! recogniser reads far better from this than from an axis-aligned box).
use xl_schema::Quad;

use crate::image::{RgbBuf, RgbView};

/// A 3x3 projective transform, row-major, mapping `(x, y, 1)` column vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The transform taking each `from[i]` to `to[i]`; `None` when the points are degenerate
    /// (three collinear corners, a collapsed quad).
    pub fn from_points(from: [[f64; 2]; 4], to: [[f64; 2]; 4]) -> Option<Self> {
        // Eight equations in h0..h7 with h8 = 1 (as OpenCV's getPerspectiveTransform).
        let mut a = [[0f64; 9]; 8];
        for i in 0..4 {
            let ([x, y], [u, v]) = (from[i], to[i]);
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let h = solve8(a)?;
        Some(Self([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]))
    }

    pub fn apply(&self, x: f64, y: f64) -> [f64; 2] {
        let m = &self.0;
        let d = m[6] * x + m[7] * y + m[8];
        [
            (m[0] * x + m[1] * y + m[2]) / d,
            (m[3] * x + m[4] * y + m[5]) / d,
        ]
    }
}

/// Gauss-Jordan elimination with partial pivoting on an 8x9 augmented matrix.
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        for v in a[col].iter_mut().skip(col) {
            *v /= p;
        }
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            let f = r[col];
            if row != col && f != 0.0 {
                for (v, pv) in r.iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * pv;
                }
            }
        }
    }
    let mut x = [0f64; 8];
    for (i, xi) in x.iter_mut().enumerate() {
        *xi = a[i][8];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Bilinear sample at a sub-pixel position, replicating the border.
#[inline]
fn sample(img: &RgbView<'_>, x: f64, y: f64) -> [u8; 3] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let p00 = img.pixel_clamped(x0, y0);
    let p10 = img.pixel_clamped(x0 + 1, y0);
    let p01 = img.pixel_clamped(x0, y0 + 1);
    let p11 = img.pixel_clamped(x0 + 1, y0 + 1);
    let mut out = [0u8; 3];
    for c in 0..3 {
        let top = p00[c] as f64 * (1.0 - fx) + p10[c] as f64 * fx;
        let bottom = p01[c] as f64 * (1.0 - fx) + p11[c] as f64 * fx;
        out[c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Warps the quad `corners` (TL, TR, BR, BL, frame pixels) onto an upright `width`x`height`
/// image, sampling bilinearly with the border replicated (OpenCV's `warpPerspective`). `None`
/// for a degenerate quad.
pub fn warp_quad(frame: RgbView<'_>, corners: &Quad, width: u32, height: u32) -> Option<RgbBuf> {
    let (w, h) = (f64::from(width), f64::from(height));
    let target = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]];
    let quad = corners.0.map(|p| [f64::from(p[0]), f64::from(p[1])]);
    if quad.iter().flatten().any(|v| !v.is_finite()) || width == 0 || height == 0 {
        return None;
    }
    // Inverse mapping: for each output pixel, where it comes from in the frame.
    let map = Homography::from_points(target, quad)?;
    let mut data = Vec::with_capacity((width * height * 3) as usize);
    for v in 0..height {
        for u in 0..width {
            let [x, y] = map.apply(f64::from(u), f64::from(v));
            data.extend_from_slice(&sample(&frame, x, y));
        }
    }
    Some(RgbBuf {
        width,
        height,
        data,
    })
}

/// The rows `from..to` of an image.
pub fn rows(img: &RgbBuf, from: u32, to: u32) -> RgbBuf {
    let (from, to) = (from.min(img.height), to.min(img.height));
    let stride = img.width as usize * 3;
    RgbBuf {
        width: img.width,
        height: to.saturating_sub(from),
        data: img.data[from as usize * stride..to as usize * stride].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_maps_the_four_points() {
        let from = [[0.0, 0.0], [440.0, 0.0], [440.0, 140.0], [0.0, 140.0]];
        let to = [[100.0, 50.0], [300.0, 70.0], [310.0, 140.0], [95.0, 120.0]];
        let h = Homography::from_points(from, to).unwrap();
        for (f, t) in from.iter().zip(to) {
            let p = h.apply(f[0], f[1]);
            assert!(
                (p[0] - t[0]).abs() < 1e-6 && (p[1] - t[1]).abs() < 1e-6,
                "{p:?} vs {t:?}"
            );
        }
    }

    #[test]
    fn degenerate_quad_has_no_homography() {
        let from = [[0.0, 0.0], [440.0, 0.0], [440.0, 140.0], [0.0, 140.0]];
        let line = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        assert!(Homography::from_points(from, line).is_none());
    }

    #[test]
    fn an_axis_aligned_quad_warps_to_a_scaled_copy() {
        // A 440x140 frame whose pixel value encodes its column; the quad is the whole frame and
        // the output half its size, so output column u samples frame column 2u.
        let (w, h) = (440u32, 140u32);
        let data: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let x = (i % w) as u8;
                [x, 0, 255 - x]
            })
            .collect();
        let frame = RgbView::new(w, h, &data).unwrap();
        let quad = Quad([[0.0, 0.0], [440.0, 0.0], [440.0, 140.0], [0.0, 140.0]]);
        let out = warp_quad(frame, &quad, 220, 70).unwrap();
        assert_eq!((out.width, out.height), (220, 70));
        assert_eq!(&out.data[0..3], &[0, 0, 255]);
        let i = ((50 * 220 + 50) * 3) as usize;
        assert_eq!(&out.data[i..i + 3], &[100, 0, 155]);
        let top = rows(&out, 0, 28);
        assert_eq!((top.width, top.height), (220, 28));
        assert_eq!(rows(&out, 28, 70).data, out.data[28 * 220 * 3..]);
    }
}
