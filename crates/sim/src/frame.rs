//! An I420 frame in GStreamer's default memory layout (so it is handed to appsrc without a
//! copy) and the few drawing primitives the scene needs, all working on Y and subsampled UV.
use crate::plate_render::{PlateLevel, PlateSprite};

#[derive(Clone)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub y_stride: usize,
    pub c_stride: usize,
    pub u_off: usize,
    pub v_off: usize,
    pub data: Vec<u8>,
}

fn round_up_4(x: usize) -> usize {
    (x + 3) & !3
}

impl Frame {
    /// BT.601 limited-range I420 to packed RGB.
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.width * self.height * 3);
        for y in 0..self.height {
            for x in 0..self.width {
                let yy = f32::from(self.data[y * self.y_stride + x]) - 16.0;
                let ci = (y / 2) * self.c_stride + x / 2;
                let u = f32::from(self.data[self.u_off + ci]) - 128.0;
                let v = f32::from(self.data[self.v_off + ci]) - 128.0;
                let r = 1.164 * yy + 1.596 * v;
                let g = 1.164 * yy - 0.392 * u - 0.813 * v;
                let b = 1.164 * yy + 2.017 * u;
                out.extend([r, g, b].map(|c| c.round().clamp(0.0, 255.0) as u8));
            }
        }
        out
    }

    /// Blank frame; `width` and `height` must be even (4:2:0).
    pub fn new(width: usize, height: usize) -> Frame {
        let y_stride = round_up_4(width);
        let c_stride = round_up_4(width / 2);
        let u_off = y_stride * height;
        let v_off = u_off + c_stride * (height / 2);
        let size = v_off + c_stride * (height / 2);
        let mut data = vec![16u8; size];
        data[u_off..].fill(128);
        Frame {
            width,
            height,
            y_stride,
            c_stride,
            u_off,
            v_off,
            data,
        }
    }

    #[cfg(test)]
    pub fn luma(&self, x: usize, y: usize) -> u8 {
        self.data[y * self.y_stride + x]
    }

    #[cfg(test)]
    pub fn chroma(&self, cx: usize, cy: usize) -> (u8, u8) {
        let i = cy * self.c_stride + cx;
        (self.data[self.u_off + i], self.data[self.v_off + i])
    }

    /// Fills a convex polygon (pixel coordinates) with `yuv`, blended by `alpha`.
    pub fn fill_convex(&mut self, pts: &[[f32; 2]], yuv: [u8; 3], alpha: f32) {
        let a = (alpha.clamp(0.0, 1.0) * 256.0) as u32;
        let (w, h) = (self.width, self.height);
        let ys = self.y_stride;
        scan_convex(pts, w, h, |row, x0, x1| {
            let base = row * ys;
            blend_span(&mut self.data[base + x0..base + x1], yuv[0], a);
        });
        let half: Vec<[f32; 2]> = pts.iter().map(|p| [p[0] / 2.0, p[1] / 2.0]).collect();
        let (cs, uo, vo) = (self.c_stride, self.u_off, self.v_off);
        scan_convex(&half, w / 2, h / 2, |row, x0, x1| {
            let base = row * cs;
            blend_span(&mut self.data[uo + base + x0..uo + base + x1], yuv[1], a);
            blend_span(&mut self.data[vo + base + x0..vo + base + x1], yuv[2], a);
        });
    }

    /// Warps a plate sprite onto `quad` (TL, TR, BR, BL) with a projective map and bilinear
    /// sampling, anti-aliasing its border. `blur` picks a coarser mip to soften the plate.
    pub fn draw_plate(&mut self, sprite: &PlateSprite, quad: &[[f32; 2]; 4], blur: u8) {
        let top = dist(quad[0], quad[1]);
        let side = dist(quad[0], quad[3]).max(1.0);
        let want = top / (1.0 + 0.45 * blur as f32);
        let level = sprite
            .levels
            .iter()
            .rev()
            .find(|l| l.w as f32 >= want)
            .unwrap_or(&sprite.levels[0]);
        let Some(inv) = quad_to_unit(quad) else {
            return;
        };
        let minx = quad
            .iter()
            .map(|p| p[0])
            .fold(f32::MAX, f32::min)
            .floor()
            .max(0.0) as usize;
        let maxx = (quad
            .iter()
            .map(|p| p[0])
            .fold(f32::MIN, f32::max)
            .ceil()
            .max(0.0) as usize)
            .min(self.width);
        let miny = quad
            .iter()
            .map(|p| p[1])
            .fold(f32::MAX, f32::min)
            .floor()
            .max(0.0) as usize;
        let maxy = (quad
            .iter()
            .map(|p| p[1])
            .fold(f32::MIN, f32::max)
            .ceil()
            .max(0.0) as usize)
            .min(self.height);
        for y in miny..maxy {
            for x in minx..maxx {
                if let Some((s, a)) = sample(level, &inv, x as f64 + 0.5, y as f64 + 0.5, top, side)
                {
                    let p = &mut self.data[y * self.y_stride + x];
                    *p = mix(*p, s[0], a);
                }
            }
        }
        for cy in miny / 2..maxy.div_ceil(2).min(self.height / 2) {
            for cx in minx / 2..maxx.div_ceil(2).min(self.width / 2) {
                let (fx, fy) = (cx as f64 * 2.0 + 1.0, cy as f64 * 2.0 + 1.0);
                if let Some((s, a)) = sample(level, &inv, fx, fy, top, side) {
                    let i = cy * self.c_stride + cx;
                    self.data[self.u_off + i] = mix(self.data[self.u_off + i], s[1], a);
                    self.data[self.v_off + i] = mix(self.data[self.v_off + i], s[2], a);
                }
            }
        }
    }
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn mix(dst: u8, src: f32, a: f32) -> u8 {
    (dst as f32 + (src - dst as f32) * a)
        .round()
        .clamp(0.0, 255.0) as u8
}

fn blend_span(span: &mut [u8], v: u8, a: u32) {
    if a >= 256 {
        span.fill(v);
    } else {
        for p in span {
            *p = ((*p as u32 * (256 - a) + v as u32 * a) >> 8) as u8;
        }
    }
}

/// Calls `f(row, x0, x1)` for each row span of a convex polygon clipped to w x h; a pixel is
/// inside when its centre is.
fn scan_convex(pts: &[[f32; 2]], w: usize, h: usize, mut f: impl FnMut(usize, usize, usize)) {
    if pts.len() < 3 {
        return;
    }
    let miny = pts.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
    let maxy = pts.iter().map(|p| p[1]).fold(f32::MIN, f32::max);
    let r0 = (miny - 0.5).ceil().max(0.0) as usize;
    let r1 = ((maxy - 0.5).floor() + 1.0).clamp(0.0, h as f32) as usize;
    for row in r0..r1 {
        let yc = row as f32 + 0.5;
        let (mut xl, mut xr) = (f32::MAX, f32::MIN);
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            if (a[1] <= yc && b[1] > yc) || (b[1] <= yc && a[1] > yc) {
                let x = a[0] + (yc - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                xl = xl.min(x);
                xr = xr.max(x);
            }
        }
        if xl > xr {
            continue;
        }
        let x0 = (xl - 0.5).ceil().clamp(0.0, w as f32) as usize;
        let x1 = ((xr - 0.5).floor() + 1.0).clamp(0.0, w as f32) as usize;
        if x0 < x1 {
            f(row, x0, x1);
        }
    }
}

/// Inverse of the unit-square-to-quad projective map (Heckbert), as a 3x3 row-major matrix.
fn quad_to_unit(q: &[[f32; 2]; 4]) -> Option<[f64; 9]> {
    let [x0, y0] = q[0].map(f64::from);
    let [x1, y1] = q[1].map(f64::from);
    let [x2, y2] = q[2].map(f64::from);
    let [x3, y3] = q[3].map(f64::from);
    let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
    let den = dx1 * dy2 - dx2 * dy1;
    if den.abs() < 1e-9 {
        return None;
    }
    let g = (sx * dy2 - dx2 * sy) / den;
    let h = (dx1 * sy - sx * dy1) / den;
    let (a, b, c) = (x1 - x0 + g * x1, x3 - x0 + h * x3, x0);
    let (d, e, f) = (y1 - y0 + g * y1, y3 - y0 + h * y3, y0);
    // Adjugate of [[a b c][d e f][g h 1]].
    Some([
        e - f * h,
        c * h - b,
        b * f - c * e,
        f * g - d,
        a - c * g,
        c * d - a * f,
        d * h - e * g,
        b * g - a * h,
        a * e - b * d,
    ])
}

/// Samples the plate at frame point (x, y): (YUV, coverage) or None outside the plate.
fn sample(
    l: &PlateLevel,
    m: &[f64; 9],
    x: f64,
    y: f64,
    top: f32,
    side: f32,
) -> Option<([f32; 3], f32)> {
    let wq = m[6] * x + m[7] * y + m[8];
    let u = (m[0] * x + m[1] * y + m[2]) / wq;
    let v = (m[3] * x + m[4] * y + m[5]) / wq;
    let edge = (u.min(1.0 - u) as f32 * top).min(v.min(1.0 - v) as f32 * side);
    let a = (edge + 0.5).clamp(0.0, 1.0);
    if a <= 0.0 {
        return None;
    }
    let fx = (u as f32 * l.w as f32 - 0.5).clamp(0.0, (l.w - 1) as f32);
    let fy = (v as f32 * l.h as f32 - 0.5).clamp(0.0, (l.h - 1) as f32);
    let (ix, iy) = (fx as usize, fy as usize);
    let (ix1, iy1) = ((ix + 1).min(l.w - 1), (iy + 1).min(l.h - 1));
    let (tx, ty) = (fx - ix as f32, fy - iy as f32);
    let bil = |p: &[u8]| {
        let a = p[iy * l.w + ix] as f32 * (1.0 - tx) + p[iy * l.w + ix1] as f32 * tx;
        let b = p[iy1 * l.w + ix] as f32 * (1.0 - tx) + p[iy1 * l.w + ix1] as f32 * tx;
        a * (1.0 - ty) + b * ty
    };
    Some(([bil(&l.y), bil(&l.u), bil(&l.v)], a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_gstreamer_i420() {
        let f = Frame::new(1280, 720);
        assert_eq!(f.data.len(), 1280 * 720 * 3 / 2);
        let f = Frame::new(642, 362);
        // Y stride rounds 642 up to 644, chroma 321 up to 324.
        assert_eq!((f.y_stride, f.c_stride), (644, 324));
        assert_eq!(f.data.len(), 644 * 362 + 2 * 324 * 181);
    }

    #[test]
    fn convex_fill_covers_the_polygon_only() {
        let mut f = Frame::new(64, 64);
        f.fill_convex(
            &[[10.0, 10.0], [30.0, 10.0], [30.0, 20.0], [10.0, 20.0]],
            [200, 60, 70],
            1.0,
        );
        assert_eq!(f.luma(10, 10), 200);
        assert_eq!(f.luma(29, 19), 200);
        assert_eq!(f.luma(30, 19), 16);
        assert_eq!(f.luma(9, 15), 16);
        assert_eq!(f.chroma(10, 7), (60, 70));
    }

    #[test]
    fn homography_inverts_corners() {
        let q = [[100.0, 50.0], [260.0, 55.0], [255.0, 110.0], [98.0, 104.0]];
        let m = quad_to_unit(&q).unwrap();
        for (p, (eu, ev)) in q
            .iter()
            .zip([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
        {
            let (x, y) = (p[0] as f64, p[1] as f64);
            let w = m[6] * x + m[7] * y + m[8];
            let u = (m[0] * x + m[1] * y + m[2]) / w;
            let v = (m[3] * x + m[4] * y + m[5]) / w;
            assert!((u - eu).abs() < 1e-6 && (v - ev).abs() < 1e-6, "{u},{v}");
        }
    }
}
