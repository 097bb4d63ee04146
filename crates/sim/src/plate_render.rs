//! Plate sprites: each vehicle's plate is drawn once at the standard layout (440x140, or
//! 480x140 for 8-character new-energy plates; character cells 45x90 / 43x90), lit, then kept as
//! a small mip chain in YUV that the frame renderer warps into place.
use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use xl_schema::PlateColor;

use crate::color::{apply_light, rgb_to_yuv8};
use crate::font::{GlyphMask, PlateFont};

pub const PLATE_H: usize = 140;

/// One resolution of a plate in YUV 4:4:4.
pub struct PlateLevel {
    pub w: usize,
    pub h: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

pub struct PlateSprite {
    /// Level 0 is full size; each next one is 3/4 of the previous.
    pub levels: Vec<PlateLevel>,
}

/// Lighting of one plate: the vehicle's own plus the camera's.
pub struct PlateLight {
    pub brightness: f32,
    pub contrast: f32,
    pub camera_light: f32,
    pub dusk: bool,
}

/// Glyph masks reused by every plate of a clip.
pub struct GlyphCache<'f> {
    font: &'f PlateFont,
    masks: HashMap<(char, usize), GlyphMask>,
}

impl<'f> GlyphCache<'f> {
    pub fn new(font: &'f PlateFont) -> Self {
        GlyphCache {
            font,
            masks: HashMap::new(),
        }
    }

    fn get(&mut self, c: char, w: usize) -> &GlyphMask {
        let font = self.font;
        self.masks
            .entry((c, w))
            .or_insert_with(|| font.glyph(c, w, 90))
    }
}

/// Character cell x positions and the separator dot centre for a layout.
struct Layout {
    width: usize,
    cell_w: usize,
    cells: Vec<f32>,
    dot_x: f32,
}

fn layout(chars: usize) -> Layout {
    // GA 36: 15.5 px margins; 12 px gaps (9 for new-energy); a wider gap holds the dot.
    let (width, cell_w, gap, big) = if chars == 8 {
        (480, 43.0, 9.0, 51.0)
    } else {
        (440, 45.0, 12.0, 34.0)
    };
    let mut x = 15.5;
    let mut cells = Vec::with_capacity(chars);
    let mut dot_x = 0.0;
    for i in 0..chars {
        cells.push(x);
        x += cell_w;
        if i == 1 {
            dot_x = x + big / 2.0;
            x += big;
        } else {
            x += gap;
        }
    }
    Layout {
        width,
        cell_w: cell_w as usize,
        cells,
        dot_x,
    }
}

fn background(color: PlateColor, y: usize) -> [f32; 3] {
    let t = y as f32 / (PLATE_H - 1) as f32;
    match color {
        PlateColor::Blue => [0.05, 0.24, 0.68],
        PlateColor::Yellow => [0.96, 0.74, 0.06],
        // New-energy: whitish green at the top shading to green at the bottom.
        PlateColor::Green => [0.9 - 0.62 * t, 0.97 - 0.2 * t, 0.9 - 0.55 * t],
        PlateColor::White => [0.95, 0.95, 0.95],
        PlateColor::Black => [0.05, 0.05, 0.05],
    }
}

fn ink(color: PlateColor) -> [f32; 3] {
    match color {
        PlateColor::Blue | PlateColor::Black => [0.96, 0.96, 0.96],
        _ => [0.04, 0.04, 0.04],
    }
}

fn rim(color: PlateColor) -> Option<[f32; 3]> {
    match color {
        PlateColor::Blue => Some([0.96, 0.96, 0.96]),
        PlateColor::Yellow => Some([0.05, 0.05, 0.05]),
        PlateColor::Green => None,
        _ => Some(ink(color)),
    }
}

/// Draws `text` as a lit plate; `rng` adds grain and grime so no two plates are identical.
pub fn render_plate(
    glyphs: &mut GlyphCache<'_>,
    text: &str,
    color: PlateColor,
    light: &PlateLight,
    rng: &mut ChaCha8Rng,
) -> PlateSprite {
    let chars: Vec<char> = text.chars().collect();
    let lay = layout(chars.len());
    let (w, h) = (lay.width, PLATE_H);
    let mut rgb: Vec<[f32; 3]> = (0..w * h).map(|i| background(color, i / w)).collect();
    if let Some(rc) = rim(color) {
        for y in 0..h {
            for x in 0..w {
                let d = x.min(w - 1 - x).min(y).min(h - 1 - y);
                if (3..=6).contains(&d) {
                    rgb[y * w + x] = rc;
                }
            }
        }
    }
    let ink_rgb = ink(color);
    let blend = |px: &mut [f32; 3], a: f32| {
        for k in 0..3 {
            px[k] += (ink_rgb[k] - px[k]) * a;
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let m = glyphs.get(c, lay.cell_w);
        let x0 = lay.cells[i].round() as usize;
        for gy in 0..m.h {
            for gx in 0..m.w {
                let a = m.alpha[gy * m.w + gx];
                if a > 0 {
                    blend(&mut rgb[(25 + gy) * w + x0 + gx], a as f32 / 255.0);
                }
            }
        }
    }
    for y in 60..=80usize {
        for x in (lay.dot_x as usize - 6)..=(lay.dot_x as usize + 6) {
            let d = ((x as f32 - lay.dot_x).powi(2) + (y as f32 - 70.0).powi(2)).sqrt();
            blend(&mut rgb[y * w + x], (5.5 - d).clamp(0.0, 1.0));
        }
    }
    // Rivets near the top corners of the character field.
    for rx in [lay.cells[0] + 40.0, w as f32 - lay.cells[0] - 40.0] {
        for y in 8..=20usize {
            for x in (rx as usize - 6)..=(rx as usize + 6) {
                let d = ((x as f32 - rx).powi(2) + (y as f32 - 14.0).powi(2)).sqrt();
                let px = &mut rgb[y * w + x];
                let a = (5.0 - d).clamp(0.0, 1.0) * 0.6;
                *px = px.map(|c| c * (1.0 - a) + 0.75 * a);
            }
        }
    }
    // Grime: a few soft dark smudges, then per-pixel grain.
    for _ in 0..rng.gen_range(0..4) {
        let (cx, cy) = (rng.gen_range(0.0..w as f32), rng.gen_range(0.0..h as f32));
        let r = rng.gen_range(15.0..60.0f32);
        let k = rng.gen_range(0.05..0.2);
        for (i, px) in rgb.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let d2 = ((x - cx).powi(2) + (y - cy).powi(2)) / (r * r);
            if d2 < 1.0 {
                let f = 1.0 - k * (1.0 - d2);
                *px = px.map(|c| c * f);
            }
        }
    }
    let mut lvl = PlateLevel {
        w,
        h,
        y: vec![0; w * h],
        u: vec![0; w * h],
        v: vec![0; w * h],
    };
    for (i, px) in rgb.iter().enumerate() {
        let grain = rng.gen_range(-0.02..0.02);
        let lit = px.map(|c| ((c - 0.5) * light.contrast + 0.5) * light.brightness + grain);
        let [y, u, v] = rgb_to_yuv8(apply_light(lit, light.camera_light, light.dusk));
        lvl.y[i] = y;
        lvl.u[i] = u;
        lvl.v[i] = v;
    }
    let mut levels = vec![lvl];
    while levels.len() < 8 {
        let prev = &levels[levels.len() - 1];
        let next = downscale(prev, 0.75);
        levels.push(next);
    }
    PlateSprite { levels }
}

/// Area-average downscale by `f` (< 1), which is what a camera does optically.
fn downscale(src: &PlateLevel, f: f32) -> PlateLevel {
    let (w, h) = (
        ((src.w as f32 * f).round() as usize).max(1),
        ((src.h as f32 * f).round() as usize).max(1),
    );
    let (sx, sy) = (src.w as f32 / w as f32, src.h as f32 / h as f32);
    let mut out = PlateLevel {
        w,
        h,
        y: vec![0; w * h],
        u: vec![0; w * h],
        v: vec![0; w * h],
    };
    for y in 0..h {
        let (y0, y1) = (
            (y as f32 * sy) as usize,
            (((y + 1) as f32 * sy).ceil() as usize).min(src.h),
        );
        for x in 0..w {
            let (x0, x1) = (
                (x as f32 * sx) as usize,
                (((x + 1) as f32 * sx).ceil() as usize).min(src.w),
            );
            let mut acc = [0u32; 3];
            for yy in y0..y1 {
                for xx in x0..x1 {
                    let i = yy * src.w + xx;
                    acc[0] += src.y[i] as u32;
                    acc[1] += src.u[i] as u32;
                    acc[2] += src.v[i] as u32;
                }
            }
            let n = ((y1 - y0) * (x1 - x0)).max(1) as u32;
            let o = y * w + x;
            out.y[o] = (acc[0] / n) as u8;
            out.u[o] = (acc[1] / n) as u8;
            out.v[o] = (acc[2] / n) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::camera_rng;

    fn neutral() -> PlateLight {
        PlateLight {
            brightness: 1.0,
            contrast: 1.0,
            camera_light: 1.0,
            dusk: false,
        }
    }

    /// Mean (Y, U, V) over a plate region, split into background-like and ink-like pixels by
    /// luma against the plate's median.
    fn stats(l: &PlateLevel, x0: usize, x1: usize) -> (f32, f32, f32, usize) {
        let (mut y, mut u, mut v, mut n) = (0.0, 0.0, 0.0, 0);
        for yy in 30..110 {
            for xx in x0..x1 {
                let i = yy * l.w + xx;
                y += l.y[i] as f32;
                u += l.u[i] as f32;
                v += l.v[i] as f32;
                n += 1;
            }
        }
        (y / n as f32, u / n as f32, v / n as f32, n)
    }

    #[test]
    fn plate_colours_match_their_kind() {
        let font = PlateFont::load().unwrap();
        let mut glyphs = GlyphCache::new(&font);
        let mut rng = camera_rng(1, 1, "test");
        let blue = render_plate(
            &mut glyphs,
            "皖S12345",
            PlateColor::Blue,
            &neutral(),
            &mut rng,
        );
        let l = &blue.levels[0];
        assert_eq!((l.w, l.h), (440, 140));
        // Gap between the 2nd and 3rd characters (x 118..151) minus the dot: pure background.
        let (y, u, _, _) = stats(l, 120, 126);
        assert!(u > 160.0 && y < 80.0, "blue background Y={y} U={u}");
        // Inside the character cells, bright white strokes must exist.
        let white = (30..110)
            .flat_map(|yy| (152..424).map(move |xx| (yy, xx)))
            .filter(|&(yy, xx)| {
                l.y[yy * 440 + xx] > 200 && (l.u[yy * 440 + xx] as i32 - 128).abs() < 12
            })
            .count();
        assert!(white > 1500, "only {white} white text pixels");
        // The rim is white.
        assert!(l.y[4 * 440 + 220] > 200);

        let yellow = render_plate(
            &mut glyphs,
            "皖S1234D",
            PlateColor::Yellow,
            &neutral(),
            &mut rng,
        );
        let (y, u, v, _) = stats(&yellow.levels[0], 120, 126);
        assert!(
            y > 140.0 && u < 90.0 && v > 135.0,
            "yellow Y={y} U={u} V={v}"
        );
        let dark = yellow.levels[0].y.iter().filter(|&&p| p < 50).count();
        assert!(dark > 2500, "black text and rim: {dark}");

        let green = render_plate(
            &mut glyphs,
            "皖SD12345",
            PlateColor::Green,
            &neutral(),
            &mut rng,
        );
        let g = &green.levels[0];
        assert_eq!(g.w, 480);
        // Gradient: lighter at the top, greener (lower V, lower U) at the bottom.
        let top = g.y[12 * 480 + 130];
        let bottom = g.y[130 * 480 + 130];
        assert!(top > bottom + 20, "gradient top {top} bottom {bottom}");
        assert!(g.v[130 * 480 + 130] < 120 && g.u[130 * 480 + 130] < 128);
        assert!(green.levels.last().unwrap().w < 100);
    }
}

#[cfg(test)]
mod preview {
    use super::*;
    use crate::rng::camera_rng;

    /// Writes a plate's luma as PGM when XL_SIM_PLATE_PGM is set (visual check only).
    #[test]
    fn dump_plate_preview() {
        let Ok(path) = std::env::var("XL_SIM_PLATE_PGM") else {
            return;
        };
        let font = PlateFont::load().unwrap();
        let mut glyphs = GlyphCache::new(&font);
        let light = PlateLight {
            brightness: 1.0,
            contrast: 1.0,
            camera_light: 1.0,
            dusk: false,
        };
        let s = render_plate(
            &mut glyphs,
            "皖S·B5819".replace('·', "").as_str(),
            PlateColor::Blue,
            &light,
            &mut camera_rng(1, 1, "x"),
        );
        let l = &s.levels[0];
        let mut out = format!("P5 {} {} 255\n", l.w, l.h).into_bytes();
        out.extend_from_slice(&l.y);
        std::fs::write(path, out).unwrap();
    }
}
