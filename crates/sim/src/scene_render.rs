//! Renders a scenario's frames: a per-camera background drawn once, then each frame copies it
//! and draws the vehicles on screen (3D-rendered body sprites, `vehicle_art`) with their
//! pre-rendered plates on top.
use crate::color::{apply_light, rgb_to_yuv};
use crate::font::PlateFont;
use crate::frame::Frame;
use crate::plate_render::{render_double_plate, render_plate, GlyphCache, PlateLight, PlateSprite};
use crate::rng::camera_rng;
use crate::scenario::{CameraLook, Pose, Scenario};
use crate::vehicle_art::{body_sprite, drawn_box, plan_yaws, BodySprite};
use std::sync::{Arc, Mutex};

pub struct SceneRenderer<'s> {
    scenario: &'s Scenario,
    background: Frame,
    sprites: Vec<PlateSprite>,
    /// Body sprites of the vehicles on screen in the last frame rendered, made on first use
    /// (a few MB each, so only those on screen are kept).
    bodies: Mutex<Vec<Option<Arc<BodySprite>>>>,
    /// Each vehicle's view angle (`vehicle_art::plan_yaws`).
    yaws: Vec<f32>,
}

impl<'s> SceneRenderer<'s> {
    pub fn new(scenario: &'s Scenario, font: &PlateFont) -> SceneRenderer<'s> {
        let mut glyphs = GlyphCache::new(font);
        let mut rng = camera_rng(scenario.look.texture_seed, scenario.camera, "plates-render");
        let sprites = scenario
            .vehicles
            .iter()
            .map(|v| {
                let light = PlateLight {
                    brightness: v.brightness,
                    contrast: v.contrast,
                    camera_light: scenario.look.light,
                    dusk: scenario.look.dusk,
                };
                let render = if v.layers == 2 {
                    render_double_plate
                } else {
                    render_plate
                };
                render(&mut glyphs, &v.plate, v.color, &light, &mut rng)
            })
            .collect();
        SceneRenderer {
            scenario,
            background: render_background(scenario),
            sprites,
            bodies: Mutex::new(vec![None; scenario.vehicles.len()]),
            yaws: plan_yaws(scenario),
        }
    }

    /// Box (x0, y0, x1, y1) of vehicle `i`'s painted body (no shadow) at `pose`: where a
    /// vehicle detector should find it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn vehicle_box(&self, i: usize, pose: &Pose) -> [f32; 4] {
        drawn_box(&self.scenario.vehicles[i], self.yaws[i], pose)
    }

    #[cfg(test)]
    pub fn yaw(&self, i: usize) -> f32 {
        self.yaws[i]
    }

    /// Clip frame `index` (0-based, < scenario.frames).
    pub fn render(&self, index: u32) -> Frame {
        let s = self.scenario;
        let mut frame = self.background.clone();
        let mut on: Vec<(Pose, usize)> = s
            .vehicles
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.pose(&s.look, s.width, s.height, index).map(|p| (p, i)))
            .collect();
        // Far (higher up) vehicles first so nearer ones would cover them.
        on.sort_by(|a, b| a.0.cy.total_cmp(&b.0.cy));
        let bodies: Vec<Arc<BodySprite>> = {
            let mut cache = self.bodies.lock().unwrap_or_else(|e| e.into_inner());
            let keep: Vec<Arc<BodySprite>> = on
                .iter()
                .map(|&(_, i)| {
                    cache[i]
                        .get_or_insert_with(|| {
                            Arc::new(body_sprite(&s.vehicles[i], &s.look, self.yaws[i]))
                        })
                        .clone()
                })
                .collect();
            for (i, slot) in cache.iter_mut().enumerate() {
                if !on.iter().any(|&(_, j)| j == i) {
                    *slot = None;
                }
            }
            keep
        };
        for ((pose, i), body) in on.into_iter().zip(bodies) {
            let v = &s.vehicles[i];
            // The body first: the plate is warped in on top of it.
            body.draw(&mut frame, &pose);
            if v.plate_covered {
                cover_plate(&mut frame, &pose.quad, s.look.light);
            } else {
                frame.draw_plate(&self.sprites[i], &pose.quad, v.blur);
            }
        }
        frame
    }
}

/// Small integer hash (splitmix64) for procedural texture; deterministic across platforms.
fn hash(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn rand01(seed: u64, a: i64, b: i64) -> f32 {
    let h = hash(seed ^ hash((a as u64).wrapping_mul(0x1_0000_01B3) ^ hash(b as u64)));
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth value noise in 0..1 with cells of `cell` px.
fn value_noise(seed: u64, x: f32, y: f32, cell: f32) -> f32 {
    let (gx, gy) = (x / cell, y / cell);
    let (ix, iy) = (gx.floor() as i64, gy.floor() as i64);
    let (tx, ty) = (gx - ix as f32, gy - iy as f32);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let a = rand01(seed, ix, iy) * (1.0 - sx) + rand01(seed, ix + 1, iy) * sx;
    let b = rand01(seed, ix, iy + 1) * (1.0 - sx) + rand01(seed, ix + 1, iy + 1) * sx;
    a * (1.0 - sy) + b * sy
}

fn background_rgb(
    look: &CameraLook,
    w: f32,
    h: f32,
    x: f32,
    y: f32,
    shadows: &[[f32; 4]],
) -> [f32; 3] {
    let seed = look.texture_seed;
    let depth = ((y - look.vp_y) / (h - look.vp_y)).max(0.05);
    let left = look.along(look.road_left, y, h);
    let right = look.along(look.road_right, y, h);
    let kerb = 0.022 * w * depth;
    let grain = rand01(seed ^ 7, x as i64, y as i64) - 0.5;
    let blotch = value_noise(seed, x / depth, y / depth, 40.0) - 0.5;
    let mut rgb = if x >= left && x <= right {
        let mut g = look.asphalt + 0.06 * blotch + 0.05 * grain;
        let lanes = look.lanes as f32;
        let lane_w = (right - left) / lanes;
        let rel = (x - left) / lane_w;
        let in_lane = rel - rel.floor();
        // Wheel tracks are darker (oil) and smoother.
        if (in_lane - 0.28).abs() < 0.07 || (in_lane - 0.72).abs() < 0.07 {
            g *= 0.9;
        }
        let paint_w = 0.011 * w * depth;
        // Solid edge lines just inside the kerbs.
        let edge = |d: f32| (paint_w * 0.8..paint_w * 1.8).contains(&d);
        let mut paint = edge(x - left) || edge(right - x);
        // Dashes are evenly spaced on the ground, hence uniform in 1/(y - vp_y).
        let c = 0.4 * (h - look.vp_y).powi(2) / (0.12 * h);
        let dash = (c / (y - look.vp_y) + 0.3).fract() < 0.45;
        for k in 1..look.lanes {
            let bx = left + lane_w * k as f32;
            if (x - bx).abs() < paint_w / 2.0 && dash {
                paint = true;
            }
        }
        if let Some(sy) = look.stop_line_y {
            if (y - sy).abs() < 0.012 * h {
                paint = true;
            }
        }
        if paint {
            let wear = 0.75 + 0.25 * value_noise(seed ^ 3, x, y, 6.0);
            g = g + (0.86 - g) * wear;
        }
        [g, g, g * 1.02]
    } else if (x < left && x >= left - kerb) || (x > right && x <= right + kerb) {
        let g = 0.68 + 0.05 * grain + 0.04 * blotch;
        [g, g, g]
    } else {
        let patch = value_noise(seed ^ 5, x, y, 24.0) - 0.5;
        let v = 0.8 + 0.35 * patch + 0.1 * grain;
        look.verge_rgb.map(|c| c * v)
    };
    for s in shadows {
        let d = ((x - s[0]) / s[2]).powi(2) + ((y - s[1]) / s[3]).powi(2);
        if d < 1.0 {
            let n = value_noise(seed ^ 11, x, y, 14.0);
            rgb = rgb.map(|c| c * (1.0 - 0.35 * (1.0 - d).min(0.3) / 0.3 * (0.6 + 0.4 * n)));
        }
    }
    apply_light(rgb, look.light, look.dusk)
}

fn render_background(s: &Scenario) -> Frame {
    let (w, h) = (s.width as usize, s.height as usize);
    let look = &s.look;
    let mut rng = camera_rng(look.texture_seed, s.camera, "background");
    let shadows: Vec<[f32; 4]> = (0..rand::Rng::gen_range(&mut rng, 0..4))
        .map(|_| {
            let x = if rand::Rng::gen_bool(&mut rng, 0.5) {
                0.0
            } else {
                w as f32
            };
            [
                x,
                rand::Rng::gen_range(&mut rng, 0.0..h as f32),
                rand::Rng::gen_range(&mut rng, 0.1..0.3) * w as f32,
                rand::Rng::gen_range(&mut rng, 0.05..0.2) * h as f32,
            ]
        })
        .collect();
    let mut f = Frame::new(w, h);
    let mut uv_row = vec![[0.0f32; 2]; w / 2];
    for y in 0..h {
        if y % 2 == 0 {
            uv_row.iter_mut().for_each(|c| *c = [0.0, 0.0]);
        }
        for x in 0..w {
            let rgb = background_rgb(
                look,
                w as f32,
                h as f32,
                x as f32 + 0.5,
                y as f32 + 0.5,
                &shadows,
            );
            let [yy, u, v] = rgb_to_yuv(rgb);
            f.data[y * f.y_stride + x] = yy.round().clamp(0.0, 255.0) as u8;
            let c = &mut uv_row[(x / 2).min(w / 2 - 1)];
            c[0] += u / 4.0;
            c[1] += v / 4.0;
        }
        if y % 2 == 1 {
            for (cx, c) in uv_row.iter().enumerate() {
                let i = (y / 2) * f.c_stride + cx;
                f.data[f.u_off + i] = c[0].round().clamp(0.0, 255.0) as u8;
                f.data[f.v_off + i] = c[1].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    f
}

/// Mud or a cloth over the plate (遮挡号牌): a dull patch a little larger than the plate, so
/// nothing of it can be read.
fn cover_plate(frame: &mut Frame, quad: &[[f32; 2]; 4], light: f32) {
    let (cx, cy) = (
        quad.iter().map(|p| p[0]).sum::<f32>() / 4.0,
        quad.iter().map(|p| p[1]).sum::<f32>() / 4.0,
    );
    let grown: Vec<[f32; 2]> = quad
        .iter()
        .map(|p| [cx + (p[0] - cx) * 1.12, cy + (p[1] - cy) * 1.25])
        .collect();
    let mud = [0.33, 0.27, 0.19].map(|c| c * light);
    frame.fill_convex(&grown, crate::color::rgb_to_yuv8(mud), 1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scenario::generate;
    use xl_schema::PlateColor;

    /// Mean U and V over frame pixels x0..x1, y0..y1 (chroma is subsampled 2x2).
    fn mean_chroma(f: &Frame, (x0, x1): (usize, usize), (y0, y1): (usize, usize)) -> (f32, f32) {
        let (mut u, mut v, mut n) = (0.0, 0.0, 0.0);
        for cy in y0 / 2..y1 / 2 {
            for cx in x0 / 2..x1 / 2 {
                let (cu, cv) = f.chroma(cx, cy);
                u += f32::from(cu);
                v += f32::from(cv);
                n += 1.0;
            }
        }
        (u / n, v / n)
    }

    #[test]
    fn frames_are_deterministic_and_show_plates_where_truth_says() {
        let font = PlateFont::load().unwrap();
        let s = generate(21, 1, 640, 360, 25, 40);
        let r1 = SceneRenderer::new(&s, &font);
        let r2 = SceneRenderer::new(&s, &font);
        let mut checked = 0;
        for v in s.vehicles.iter().filter(|v| !v.plate_covered) {
            let (a, b) = v.visible.unwrap();
            let mid = (a + b) / 2;
            let f = r1.render(mid);
            assert_eq!(
                f.data,
                r2.render(mid).data,
                "frame {mid} differs between renders"
            );
            let p = v.pose(&s.look, 640, 360, mid).unwrap();
            // Mean chroma over the plate interior tells its colour.
            let (x0, x1) = (
                (p.quad[0][0] + 0.15 * p.pw) as usize,
                (p.quad[1][0] - 0.15 * p.pw) as usize,
            );
            let (y0, y1) = ((p.cy - 0.08 * p.pw) as usize, (p.cy + 0.08 * p.pw) as usize);
            let (u, vv) = mean_chroma(&f, (x0, x1), (y0, y1));
            match v.color {
                PlateColor::Blue => assert!(u > 140.0, "{} U={u}", v.plate),
                PlateColor::Yellow => assert!(u < 110.0 && vv > 130.0, "{} U={u} V={vv}", v.plate),
                PlateColor::Green => assert!(vv < 124.0, "{} V={vv}", v.plate),
                _ => {}
            }
            checked += 1;
        }
        assert!(checked >= 3);
    }

    /// Each plate sprite of seed 12 cameras 1 and 3 (1280x720), as the code before
    /// double-layer plates drew them: SHA-256 of all levels, first 16 hex digits.
    const SPRITES: &[(u32, &str, &str)] = &[
        (1, "皖SD71509", "c97d2e128583cbb8"),
        (1, "皖S78J32", "c5277ba9e783869d"),
        (1, "冀K93B0M", "bbef7ecc51f3a45f"),
        (1, "皖D66Z6P", "d854e90348bf4856"),
        (1, "皖M753N6", "451e295b82d9d49b"),
        (1, "皖S02616", "03e77abd8f3e5bf0"),
        (1, "赣M8K901", "86748d1acb48f52c"),
        (1, "湘MY9P36", "b7ffc6e961d12dcd"),
        (1, "皖S24F26", "9d6224e21219c8d2"),
        (1, "皖S62616", "3b11813ca7247062"),
        (1, "皖S24421", "05b97eed1ee69ad8"),
        (3, "皖H1597U", "c8700bfebe7a72c5"),
        (3, "皖S41053", "8f0ac2b897aea99d"),
        (3, "皖S63183", "df2277e034d0280f"),
        (3, "皖S7Q62Y", "e558bf9eb22da2d2"),
        (3, "皖S02170", "11a7a67197e6ac79"),
        (3, "皖S0H050", "dfe7e6135cc2fd21"),
        (3, "浙CGP762", "003e7a8acd441948"),
        (3, "皖SN6Z92", "1f07c30a582573f1"),
        (3, "皖S1133S", "6a4f99ca073921dd"),
    ];

    #[test]
    fn single_row_plates_stay_byte_identical_beside_double_ones() {
        use sha2::{Digest, Sha256};
        let font = PlateFont::load().unwrap();
        if !crate::plate_render::fixture::taken_with(&font) {
            return;
        }
        let mut doubles = 0;
        for camera in [1, 3] {
            let s = generate(12, camera, 1280, 720, 25, 60);
            let r = SceneRenderer::new(&s, &font);
            let want: Vec<_> = SPRITES.iter().filter(|f| f.0 == camera).collect();
            assert_eq!(want.len(), s.vehicles.len());
            for ((v, sprite), &&(_, plate, hash)) in s.vehicles.iter().zip(&r.sprites).zip(&want) {
                assert_eq!(v.plate, plate);
                let mut h = Sha256::new();
                for l in &sprite.levels {
                    h.update(&l.y);
                    h.update(&l.u);
                    h.update(&l.v);
                }
                let got = hex::encode(h.finalize());
                let l = &sprite.levels[0];
                if v.layers == 2 {
                    doubles += 1;
                    assert_eq!((l.w, l.h), (440, 220), "{plate}");
                } else {
                    assert_eq!(&got[..16], hash, "{plate} changed");
                    assert_eq!(l.h, 140, "{plate}");
                }
            }
        }
        // A double plate comes before single ones on the same stream, so the stream is shown
        // to advance as before.
        assert!(doubles >= 2, "{doubles}");
    }

    #[test]
    fn double_plates_fill_their_taller_quad() {
        let font = PlateFont::load().unwrap();
        let mut checked = 0;
        for (seed, camera) in (1..=4).flat_map(|c| [(12, c), (1, c)]) {
            let s = generate(seed, camera, 1280, 720, 25, 60);
            let r = SceneRenderer::new(&s, &font);
            for v in s
                .vehicles
                .iter()
                .filter(|v| v.layers == 2 && !v.plate_covered)
            {
                let (a, b) = v.visible.unwrap();
                let mid = (a + b) / 2;
                let f = r.render(mid);
                let p = v.pose(&s.look, 1280, 720, mid).unwrap();
                let ph = 0.5 * p.pw * v.squash;
                let top = (p.quad[0][1] + p.quad[1][1]) / 2.0;
                // Yellow across the plate's upper and lower strips, which lie beyond where a
                // single-row plate would end: the sprite spans the whole, taller quad.
                for (from, to) in [(0.05, 0.15), (0.85, 0.95)] {
                    let (y0, y1) = ((top + from * ph) as usize, (top + to * ph) as usize);
                    let (x0, x1) = ((p.cx - 0.35 * p.pw) as usize, (p.cx + 0.35 * p.pw) as usize);
                    let (u, vv) = mean_chroma(&f, (x0, x1), (y0, y1));
                    assert!(u < 115.0 && vv > 130.0, "{} {from}: U={u} V={vv}", v.plate);
                }
                assert!(top + 0.15 * ph < p.cy - 0.159 * p.pw * v.squash);
                checked += 1;
            }
        }
        assert!(checked >= 2, "{checked}");
    }

    #[test]
    fn background_looks_like_a_road() {
        let s = generate(4, 3, 1280, 720, 25, 10);
        let f = render_background(&s);
        let ys: Vec<u8> = (0..720)
            .step_by(7)
            .flat_map(|y| (0..1280).step_by(5).map(move |x| (x, y)))
            .map(|(x, y)| f.luma(x, y))
            .collect();
        let mean = ys.iter().map(|&v| v as f32).sum::<f32>() / ys.len() as f32;
        let var = ys.iter().map(|&v| (v as f32 - mean).powi(2)).sum::<f32>() / ys.len() as f32;
        assert!((30.0..170.0).contains(&mean), "mean luma {mean}");
        assert!(var.sqrt() > 4.0, "texture too flat: sd {}", var.sqrt());
    }
}
