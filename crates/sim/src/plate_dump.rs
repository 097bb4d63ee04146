//! Manual tool (ignored test) for judging how the plate face reads to the recogniser: renders
//! plates of every province, in the three colours, as crops at a scene-like size, in the
//! plates-dev `crops/` layout, so `crates/infer/tests/plates_dev.rs`'s per-province report can
//! score them (`XL_PLATES_DEV=DIR`).
//!
//! ```sh
//! XL_SIM_DUMP_DIR=/tmp/pdump [XL_SIM_FONT=/path/to/cjk.ttc[#FACE[+BOLD_PX]]] [XL_SIM_DUMP_LEVEL=4] \
//!   [XL_SIM_DUMP_LAYERS=2] \
//!   cargo test -p xl-sim --lib plate_dump::dump_plates -- --ignored --nocapture
//! ```
//! `XL_SIM_DUMP_LAYERS=2` dumps yellow double-layer plates (lorries, buses) instead of the three
//! single-row colours.
//!
//! `dump_double_plates_in_frames` writes double-layer plates as the frame renderer shows them
//! (crops of rendered 1280x720 frames at the start, middle and end of each visible stretch) to
//! `XL_SIM_DOUBLE_DIR` (default /tmp/double-plates), with `manifest.csv` naming each plate:
//! ```sh
//! cargo test -p xl-sim --lib plate_dump::dump_double_plates_in_frames -- --ignored
//! ```
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::Rng;
use xl_schema::PlateColor;

use crate::color::yuv8_to_rgb8;
use crate::font::PlateFont;
use crate::plate_render::{render_double_plate, render_plate, GlyphCache, PlateLight};
use crate::plate_text::{all_provinces, plate_text, PlateKey};
use crate::rng::camera_rng;
use crate::scenario::generate;
use crate::scene_render::SceneRenderer;

const PER_PROVINCE: usize = 12;

#[test]
#[ignore = "manual tool: writes plate crops for the recogniser"]
fn dump_plates() {
    let dir = PathBuf::from(std::env::var("XL_SIM_DUMP_DIR").expect("XL_SIM_DUMP_DIR"));
    let level: usize = std::env::var("XL_SIM_DUMP_LEVEL")
        .ok()
        .map(|v| v.parse().expect("XL_SIM_DUMP_LEVEL"))
        .unwrap_or(4);
    let double = std::env::var("XL_SIM_DUMP_LAYERS").is_ok_and(|v| v == "2");
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
            let color = if double {
                PlateColor::Yellow
            } else {
                [PlateColor::Blue, PlateColor::Yellow, PlateColor::Green][i % 3]
            };
            let key = PlateKey::random_in(province, &mut rng);
            let text = plate_text(&key, color, &mut rng);
            let light = PlateLight {
                brightness: rng.gen_range(0.8..1.15),
                contrast: rng.gen_range(0.8..1.1),
                camera_light: 1.0,
                dusk: false,
            };
            let render = if double {
                render_double_plate
            } else {
                render_plate
            };
            let sprite = render(&mut glyphs, &text, color, &light, &mut rng);
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

#[test]
#[ignore = "manual tool: writes double-layer plates as rendered frames show them"]
fn dump_double_plates_in_frames() {
    let dir = PathBuf::from(
        std::env::var("XL_SIM_DOUBLE_DIR").unwrap_or_else(|_| "/tmp/double-plates".into()),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let font = PlateFont::load().unwrap();
    let mut manifest = String::from("file,plate,class,plate_width_px\n");
    for (seed, camera) in [(1, 1), (1, 2), (1, 3), (12, 1), (12, 3), (12, 4)] {
        let s = generate(seed, camera, 1280, 720, 25, 60);
        let r = SceneRenderer::new(&s, &font);
        for (i, v) in s.vehicles.iter().enumerate() {
            let (Some((a, b)), 2) = (v.visible, v.layers) else {
                continue;
            };
            for f in [a, (a + b) / 2, b] {
                let frame = r.render(f);
                let rgb = frame.to_rgb();
                let p = v.pose(&s.look, 1280, 720, f).unwrap();
                // The plate with some of the bumper around it.
                let xs = p.quad.map(|q| q[0]);
                let ys = p.quad.map(|q| q[1]);
                let x0 = (xs.iter().copied().fold(f32::MAX, f32::min) - 0.5 * p.pw).max(0.0);
                let x1 = (xs.iter().copied().fold(f32::MIN, f32::max) + 0.5 * p.pw).min(1280.0);
                let y0 = (ys.iter().copied().fold(f32::MAX, f32::min) - 0.3 * p.pw).max(0.0);
                let y1 = (ys.iter().copied().fold(f32::MIN, f32::max) + 0.3 * p.pw).min(720.0);
                let (x0, y0) = (x0 as u32, y0 as u32);
                let (w, h) = (x1 as u32 - x0, y1 as u32 - y0);
                let img = image::RgbImage::from_fn(w, h, |x, y| {
                    let k = (((y0 + y) * 1280 + x0 + x) * 3) as usize;
                    image::Rgb([rgb[k], rgb[k + 1], rgb[k + 2]])
                });
                let file = format!("s{seed}c{camera}v{i:02}f{f:04}.png");
                img.save(dir.join(&file)).unwrap();
                writeln!(
                    manifest,
                    "{file},{},{},{:.0}",
                    v.plate,
                    v.class.as_str(),
                    p.pw
                )
                .unwrap();
                if f == (a + b) / 2 {
                    image::save_buffer(
                        dir.join(format!("s{seed}c{camera}v{i:02}f{f:04}-frame.png")),
                        &rgb,
                        1280,
                        720,
                        image::ExtendedColorType::Rgb8,
                    )
                    .unwrap();
                }
            }
        }
    }
    std::fs::write(dir.join("manifest.csv"), manifest).unwrap();
}
