//! The CJK font for plate characters, loaded from the system at runtime, and glyph masks
//! stretched into the tall narrow cells of the plate typeface.
use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale};

use crate::SimError;

/// (path, face in the collection). Noto's collections hold the Japanese, Korean, Simplified
/// Chinese (face 2), ... variants; plates need the Simplified Chinese forms. All are regular
/// weights, bolded by `REGULAR_BOLDEN` pixels.
const CANDIDATES: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
];
/// Plate typefaces are bold: a regular-weight CJK face's strokes are thickened by this many
/// pixels at the 90 px cell height.
const REGULAR_BOLDEN: usize = 2;

/// Latin letters and digits: real plates use a bold condensed sans (the GB plate face), whose
/// Q has a clear tail; a CJK font's Latin glyphs squeezed narrow look too much like 0 and O.
const LATIN_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
];

pub struct PlateFont {
    font: FontVec,
    /// Font for ASCII characters when one is installed; else `font` serves them too.
    latin: Option<FontVec>,
    /// Identifies the font bytes for the clip cache key.
    pub fingerprint: String,
    /// Pixels of bold added to CJK strokes.
    cjk_bolden: usize,
}

/// Coverage mask (0..=255) of one character fitted into a `w` x `h` cell.
pub struct GlyphMask {
    pub w: usize,
    pub h: usize,
    pub alpha: Vec<u8>,
}

impl PlateFont {
    pub fn load() -> Result<PlateFont, SimError> {
        let &(path, face) = CANDIDATES
            .iter()
            .find(|(p, _)| Path::new(p).is_file())
            .ok_or_else(|| SimError::FontMissing {
                tried: CANDIDATES.iter().map(|c| PathBuf::from(c.0)).collect(),
            })?;
        Self::load_face(Path::new(path), face, REGULAR_BOLDEN)
    }

    /// Face `index` of a collection, with `cjk_bolden` pixels of bold added to CJK strokes.
    pub fn load_face(path: &Path, index: u32, cjk_bolden: usize) -> Result<PlateFont, SimError> {
        let data = std::fs::read(path).map_err(|source| SimError::Io {
            context: "reading font",
            path: path.to_path_buf(),
            source,
        })?;
        let mut fingerprint = format!("{}:{}#{index}+{cjk_bolden}", path.display(), data.len());
        let font =
            FontVec::try_from_vec_and_index(data, index).map_err(|_| SimError::FontInvalid {
                path: path.to_path_buf(),
            })?;
        let latin = LATIN_CANDIDATES.iter().map(Path::new).find_map(|p| {
            let data = std::fs::read(p).ok()?;
            fingerprint.push_str(&format!("|{}:{}", p.display(), data.len()));
            FontVec::try_from_vec(data).ok()
        });
        Ok(PlateFont {
            font,
            latin,
            fingerprint,
            cjk_bolden,
        })
    }

    fn font_for(&self, c: char) -> &FontVec {
        match &self.latin {
            Some(latin) if c.is_ascii() => latin,
            _ => &self.font,
        }
    }

    /// Unscaled-ish ink size of `c` at a 100 px reference scale.
    fn ink_size(&self, c: char, scale: PxScale) -> Option<(f32, f32)> {
        let font = self.font_for(c);
        let g = font.glyph_id(c).with_scale(scale);
        let b = font.outline_glyph(g)?.px_bounds();
        Some((b.width(), b.height()))
    }

    /// Mask of `c` in a `w` x `h` cell. CJK characters fill the cell (plate typefaces stretch
    /// them tall and narrow); Latin characters share one scale taken from '0', so a '1' stays
    /// narrow and centred as on a real plate.
    pub fn glyph(&self, c: char, w: usize, h: usize) -> GlyphMask {
        let reference = PxScale::from(100.0);
        let mut alpha = vec![0u8; w * h];
        let (wf, hf) = (w as f32, h as f32);
        let scale = if c.is_ascii() {
            let (zw, zh) = self.ink_size('0', reference).unwrap_or((50.0, 70.0));
            let mut sx = 100.0 * wf * 0.9 / zw;
            let sy = 100.0 * hf / zh;
            if let Some((gw, _)) = self.ink_size(c, reference) {
                sx = sx.min(100.0 * wf * 0.98 / gw.max(1.0));
            }
            PxScale { x: sx, y: sy }
        } else {
            let (gw, gh) = self.ink_size(c, reference).unwrap_or((90.0, 90.0));
            PxScale {
                x: 100.0 * wf * 0.96 / gw.max(1.0),
                y: 100.0 * hf * 0.96 / gh.max(1.0),
            }
        };
        // The plate face's Q is its O with a diagonal tail through the lower right of the bowl; a
        // text face's Q (a short stub under the bowl) is read as 0 by plate recognisers.
        let drawn = if c == 'Q' { 'O' } else { c };
        let font = self.font_for(drawn);
        let g = font.glyph_id(drawn).with_scale(scale);
        if let Some(og) = font.outline_glyph(g) {
            let b = og.px_bounds();
            let ox = ((wf - b.width()) / 2.0).round() as i32;
            let oy = ((hf - b.height()) / 2.0).round() as i32;
            og.draw(|x, y, cov| {
                let (px, py) = (x as i32 + ox, y as i32 + oy);
                if px >= 0 && py >= 0 && (px as usize) < w && (py as usize) < h {
                    let a = &mut alpha[py as usize * w + px as usize];
                    *a = (*a).max((cov.clamp(0.0, 1.0) * 255.0) as u8);
                }
            });
        }
        if c == 'Q' {
            draw_q_tail(&mut alpha, w, h);
        }
        // Plate typefaces are bold: thicken the CJK strokes by `cjk_bolden` pixels, and the
        // (already bold) Latin ones by one when they come from the CJK font.
        let passes = match (c.is_ascii(), self.latin.is_some()) {
            (true, true) => 0,
            (true, false) => 1,
            (false, _) => self.cjk_bolden,
        };
        for _ in 0..passes {
            dilate(&mut alpha, w, h);
        }
        GlyphMask { w, h, alpha }
    }
}

/// GA 36's Q tail: a stroke about as thick as the bowl's, from inside the bowl's lower right to
/// its bottom-right edge.
fn draw_q_tail(alpha: &mut [u8], w: usize, h: usize) {
    let (wf, hf) = (w as f32, h as f32);
    let (x0, y0, x1, y1) = (0.52 * wf, 0.66 * hf, 0.98 * wf, 0.99 * hf);
    let half = 0.09 * wf.max(hf * 0.5);
    let (dx, dy) = (x1 - x0, y1 - y0);
    let len2 = dx * dx + dy * dy;
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = (((px - x0) * dx + (py - y0) * dy) / len2).clamp(0.0, 1.0);
            let d = (px - (x0 + t * dx)).hypot(py - (y0 + t * dy));
            let cov = (half + 0.5 - d).clamp(0.0, 1.0);
            let a = &mut alpha[y * w + x];
            *a = (*a).max((cov * 255.0) as u8);
        }
    }
}

/// Grows ink by one pixel in the four directions.
fn dilate(alpha: &mut [u8], w: usize, h: usize) {
    let src = alpha.to_vec();
    for y in 0..h {
        for x in 0..w {
            let mut m = src[y * w + x];
            for (dx, dy) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
                let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                if nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h {
                    m = m.max(src[ny as usize * w + nx as usize]);
                }
            }
            alpha[y * w + x] = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyphs_fill_their_cells() {
        let font = PlateFont::load().unwrap();
        for c in ['皖', '8', 'S'] {
            let m = font.glyph(c, 45, 90);
            let ink = m.alpha.iter().filter(|&&a| a > 128).count();
            assert!(ink > 300, "{c}: only {ink} inked pixels");
            let rows: Vec<usize> = (0..90)
                .filter(|y| m.alpha[y * 45..(y + 1) * 45].iter().any(|&a| a > 128))
                .collect();
            assert!(rows.len() > 75, "{c} spans only {} rows", rows.len());
        }
    }

    #[test]
    fn q_has_a_tail_through_the_bowl_where_o_is_hollow() {
        let font = PlateFont::load().unwrap();
        let ink = |c: char| {
            let m = font.glyph(c, 45, 90);
            // The lower right of the counter, inside the bowl.
            let mut n = 0;
            for y in 58..66 {
                for x in 22..28 {
                    n += (m.alpha[y * 45 + x] > 128) as usize;
                }
            }
            n
        };
        let (o, q) = (ink('O'), ink('Q'));
        assert!(o <= 8 && q >= o + 24, "inked pixels there: O {o}, Q {q}");
    }
}
