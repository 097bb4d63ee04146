//! Plate background colour from the rectified character band.
use xl_schema::PlateColor;

use crate::image::RgbView;

/// Share of band pixels a chromatic colour needs before it beats white/black.
const MIN_CHROMATIC_SHARE: f32 = 0.15;

/// Hue in degrees, saturation and value in 0..1.
fn hsv(p: &[u8]) -> (f32, f32, f32) {
    let (r, g, b) = (
        p[0] as f32 / 255.0,
        p[1] as f32 / 255.0,
        p[2] as f32 / 255.0,
    );
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let s = if max > 0.0 { d / max } else { 0.0 };
    let h = if d == 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (h, s, max)
}

/// Classifies the plate colour by voting over the band's pixels. Characters take a large share of
/// a plate, so blue/yellow/green win once they cover a modest fraction; otherwise white vs black.
pub fn classify_color(band: RgbView<'_>) -> PlateColor {
    // blue, yellow, green, white, black
    let mut votes = [0u32; 5];
    for px in band.data().chunks_exact(3) {
        let (h, s, v) = hsv(px);
        let class = if v < 0.22 {
            Some(4)
        } else if s < 0.18 && v > 0.55 {
            Some(3)
        } else if s >= 0.3 && (180.0..=255.0).contains(&h) {
            Some(0)
        } else if s >= 0.3 && (30.0..=70.0).contains(&h) {
            Some(1)
        } else if s >= 0.2 && (75.0..=175.0).contains(&h) {
            Some(2)
        } else {
            None
        };
        if let Some(c) = class {
            votes[c] += 1;
        }
    }
    let total = (band.width() * band.height()) as f32;
    let (chroma, n) = (0..3)
        .map(|i| (i, votes[i]))
        .max_by_key(|x| x.1)
        .unwrap_or((0, 0));
    let pick = if n as f32 >= MIN_CHROMATIC_SHARE * total {
        chroma
    } else if votes[3] >= votes[4] {
        3
    } else {
        4
    };
    [
        PlateColor::Blue,
        PlateColor::Yellow,
        PlateColor::Green,
        PlateColor::White,
        PlateColor::Black,
    ][pick]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(bg: [u8; 3], fg: [u8; 3]) -> Vec<u8> {
        // 60% background, 40% characters.
        (0..100)
            .flat_map(|i| if i % 5 < 3 { bg } else { fg })
            .collect()
    }

    #[test]
    fn common_plate_colours() {
        let cases = [
            ([20, 60, 180], [240, 240, 240], PlateColor::Blue),
            ([230, 180, 20], [10, 10, 10], PlateColor::Yellow),
            ([90, 200, 120], [10, 10, 10], PlateColor::Green),
            ([235, 235, 235], [10, 10, 10], PlateColor::White),
            ([15, 15, 15], [240, 240, 240], PlateColor::Black),
        ];
        for (bg, fg, want) in cases {
            let data = plate(bg, fg);
            let view = RgbView::new(10, 10, &data).unwrap();
            assert_eq!(classify_color(view), want, "bg {bg:?}");
        }
    }
}
