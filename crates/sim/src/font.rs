//! The CJK font for plate characters, loaded from the system at runtime, and glyph masks
//! stretched into the tall narrow cells of the plate typeface.
use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale};

use crate::SimError;

const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
];

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
}

/// Coverage mask (0..=255) of one character fitted into a `w` x `h` cell.
pub struct GlyphMask {
    pub w: usize,
    pub h: usize,
    pub alpha: Vec<u8>,
}

impl PlateFont {
    pub fn load() -> Result<PlateFont, SimError> {
        let path = CANDIDATES
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .ok_or_else(|| SimError::FontMissing {
                tried: CANDIDATES.iter().map(PathBuf::from).collect(),
            })?;
        Self::load_from(path)
    }

    pub fn load_from(path: &Path) -> Result<PlateFont, SimError> {
        let data = std::fs::read(path).map_err(|source| SimError::Io {
            context: "reading font",
            path: path.to_path_buf(),
            source,
        })?;
        let mut fingerprint = format!("{}:{}", path.display(), data.len());
        let font = FontVec::try_from_vec_and_index(data, 0).map_err(|_| SimError::FontInvalid {
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
        let font = self.font_for(c);
        let g = font.glyph_id(c).with_scale(scale);
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
        // Plate typefaces are bold: thicken the regular-weight CJK strokes by two pixels, and the
        // (already bold) Latin ones by one when they come from the CJK font.
        let passes = match (c.is_ascii(), self.latin.is_some()) {
            (true, true) => 0,
            (true, false) => 1,
            (false, _) => 2,
        };
        for _ in 0..passes {
            dilate(&mut alpha, w, h);
        }
        GlyphMask { w, h, alpha }
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
}
