//! Perspective rectification of a plate: four corners onto a 440x140 plate template, keeping the
//! character band (the recogniser reads far better from this than from an axis-aligned box).
use xl_schema::Quad;

use crate::error::Result;
use crate::image::{resize_rgb, RgbBuf, RgbView};

/// Size of a standard Chinese plate in millimetres, used as the template in pixels.
pub const TEMPLATE: (f64, f64) = (440.0, 140.0);
/// The character band inside the template: x 12..428, y 25..115.
pub const BAND: (u32, u32, u32, u32) = (12, 25, 416, 90);

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

/// Warps the plate inside `corners` (TL, TR, BR, BL, frame pixels) onto the template and returns
/// its character band (416x90). `None` for a degenerate quad.
pub fn plate_band(frame: RgbView<'_>, corners: &Quad) -> Option<RgbBuf> {
    let (tw, th) = TEMPLATE;
    let template = [[0.0, 0.0], [tw, 0.0], [tw, th], [0.0, th]];
    let quad = corners.0.map(|p| [p[0] as f64, p[1] as f64]);
    if quad.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    // Inverse mapping: for each output pixel, where it comes from in the frame.
    let h = Homography::from_points(template, quad)?;
    let (bx, by, bw, bh) = BAND;
    let mut data = Vec::with_capacity((bw * bh * 3) as usize);
    for v in 0..bh {
        for u in 0..bw {
            let [x, y] = h.apply((u + bx) as f64, (v + by) as f64);
            data.extend_from_slice(&sample(&frame, x, y));
        }
    }
    Some(RgbBuf {
        width: bw,
        height: bh,
        data,
    })
}

/// The band resized to the recogniser's input height (32) keeping its aspect (width 148).
pub fn recogniser_crop(frame: RgbView<'_>, corners: &Quad) -> Result<Option<RgbBuf>> {
    let Some(band) = plate_band(frame, corners) else {
        return Ok(None);
    };
    let (w, h) = crate::recognizer::input_size(band.width, band.height);
    resize_rgb(band.view(), w, h).map(Some)
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
    fn band_of_an_axis_aligned_plate_is_a_scaled_copy() {
        // A 440x140 frame whose pixel value encodes its column: the identity warp must keep it.
        let (w, h) = (440u32, 140u32);
        let data: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let x = (i % w) as u8;
                [x, 0, 255 - x]
            })
            .collect();
        let frame = RgbView::new(w, h, &data).unwrap();
        let quad = Quad([[0.0, 0.0], [440.0, 0.0], [440.0, 140.0], [0.0, 140.0]]);
        let band = plate_band(frame, &quad).unwrap();
        assert_eq!((band.width, band.height), (416, 90));
        // Band pixel (0, 0) is template (12, 25); pixel (100, 50) is (112, 75).
        assert_eq!(&band.data[0..3], &[12, 0, 243]);
        let i = ((50 * 416 + 100) * 3) as usize;
        assert_eq!(&band.data[i..i + 3], &[112, 0, 143]);
    }
}
