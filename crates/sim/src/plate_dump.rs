//! Manual tool (ignored test) for judging how the plate face reads to the recogniser: renders
//! plates of every province, in the three colours, as crops at a scene-like size, in the
//! plates-dev `crops/` layout, so `crates/infer/tests/plates_dev.rs`'s per-province report can
//! score them (`XL_PLATES_DEV=DIR`).
//!
//! ```sh
//! XL_SIM_DUMP_DIR=/tmp/pdump [XL_SIM_FONT=/path/to/cjk.ttc[#FACE[+BOLD_PX]]] [XL_SIM_DUMP_LEVEL=4] \
//!   cargo test -p xl-sim --lib plate_dump::dump_plates -- --ignored --nocapture
//! ```
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::Rng;
use xl_schema::PlateColor;

use crate::color::yuv8_to_rgb8;
use crate::font::PlateFont;
use crate::plate_render::{render_plate, GlyphCache, PlateLight};
use crate::plate_text::{all_provinces, plate_text, PlateKey};
use crate::rng::camera_rng;

const PER_PROVINCE: usize = 12;

#[test]
#[ignore = "manual tool: writes plate crops for the recogniser"]
fn dump_plates() {
    let dir = PathBuf::from(std::env::var("XL_SIM_DUMP_DIR").expect("XL_SIM_DUMP_DIR"));
    let level: usize = std::env::var("XL_SIM_DUMP_LEVEL")
        .ok()
        .map(|v| v.parse().expect("XL_SIM_DUMP_LEVEL"))
        .unwrap_or(4);
    // XL_SIM_FONT=PATH[#INDEX[+BOLDEN]]
    let font = match std::env::var("XL_SIM_FONT") {
        Ok(spec) => {
            let (path, rest) = spec.split_once('#').unwrap_or((&spec, "0+2"));
            let (index, bolden) = rest.split_once('+').unwrap_or((rest, "2"));
            PlateFont::load_face(
                Path::new(path),
                index.parse().unwrap(),
                bolden.parse().unwrap(),
            )
            .unwrap()
        }
        Err(_) => PlateFont::load().unwrap(),
    };
    let images = dir.join("crops/images");
    std::fs::create_dir_all(&images).unwrap();
    let mut glyphs = GlyphCache::new(&font);
    let mut rng = camera_rng(1, 1, "plate-dump");
    let mut truth = String::from("file,plate\n");
    let mut n = 0;
    for province in all_provinces() {
        for i in 0..PER_PROVINCE {
            let color = [PlateColor::Blue, PlateColor::Yellow, PlateColor::Green][i % 3];
            let key = PlateKey::random_in(province, &mut rng);
            let text = plate_text(&key, color, &mut rng);
            let light = PlateLight {
                brightness: rng.gen_range(0.8..1.15),
                contrast: rng.gen_range(0.8..1.1),
                camera_light: 1.0,
                dusk: false,
            };
            let sprite = render_plate(&mut glyphs, &text, color, &light, &mut rng);
            let l = &sprite.levels[level.min(sprite.levels.len() - 1)];
            let mut img = image::RgbImage::new(l.w as u32, l.h as u32);
            for (i, px) in img.pixels_mut().enumerate() {
                *px = image::Rgb(yuv8_to_rgb8([l.y[i], l.u[i], l.v[i]]));
            }
            let file = format!("images/{n:04}.png");
            img.save(dir.join("crops").join(&file)).unwrap();
            writeln!(truth, "{file},{text}").unwrap();
            n += 1;
        }
    }
    std::fs::write(dir.join("crops/truth.csv"), truth).unwrap();
    tracing::info!(n, "plates written");
}
