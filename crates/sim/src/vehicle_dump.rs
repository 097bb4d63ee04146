//! Manual tools (ignored tests) for judging how vehicles look to a COCO detector: dump sampled
//! frames as PNG with the vehicles' boxes, and time frame rendering.
//!
//! Dump (then score with `crates/sim/tests/vehicle_recall.py`, see its docstring):
//! ```sh
//! XL_SIM_DUMP_DIR=/tmp/vdump XL_SIM_DUMP_SEEDS=1,2,3 XL_SIM_DUMP_CAMS=4 \
//!   cargo test -p xl-sim --lib vehicle_dump::dump_vehicle_frames -- --ignored --nocapture
//! ```
//! For every vehicle of every (seed, camera) 60 s 1280x720 clip, `XL_SIM_DUMP_PER_VEHICLE`
//! (default 2) frames spread over the stretch where its whole body box is inside the frame
//! (Pose::body_box; with `XL_SIM_DUMP_ELIGIBLE=drawn`, its painted box) are rendered;
//! `XL_SIM_DUMP_CLASSES` (default "car,bus,truck") limits which vehicles pick frames.
//! `manifest.jsonl` lists each frame with every vehicle on screen: class, scenario body box,
//! drawn box (the painted silhouette without the shadow), plate width, yaw, and `eligible`
//! (body box fully inside and at least 120 px tall) / `eligible_drawn` (the same for the
//! painted box).
//!
//! Timing: `cargo test -p xl-sim --lib vehicle_dump::time_render -- --ignored --nocapture`
//! (`XL_SIM_TIME_FRAMES`, default 250, consecutive frames of seed 1 camera 1 at 1280x720, as
//! the encoder renders them).
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::font::PlateFont;
use crate::frame::Frame;
use crate::scenario::{generate, Pose};
use crate::scene_render::SceneRenderer;

const W: u32 = 1280;
const H: u32 = 720;

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

pub fn save_png(f: &Frame, path: &std::path::Path) {
    let rgb = f.to_rgb();
    image::save_buffer(
        path,
        &rgb,
        f.width as u32,
        f.height as u32,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
}

fn inside(b: [f32; 4]) -> bool {
    b[0] >= 0.0 && b[1] >= 0.0 && b[2] <= W as f32 && b[3] <= H as f32
}

#[test]
#[ignore]
fn dump_vehicle_frames() {
    let dir = PathBuf::from(env_or("XL_SIM_DUMP_DIR", "/tmp/xl-vehicle-dump"));
    std::fs::create_dir_all(&dir).unwrap();
    let seeds: Vec<u64> = env_or("XL_SIM_DUMP_SEEDS", "1,2,3")
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let cams: u32 = env_or("XL_SIM_DUMP_CAMS", "4").parse().unwrap();
    let per_vehicle: u32 = env_or("XL_SIM_DUMP_PER_VEHICLE", "2").parse().unwrap();
    let font = PlateFont::load().unwrap();
    let mut manifest = std::fs::File::create(dir.join("manifest.jsonl")).unwrap();
    let (mut frames, mut render_secs) = (0u32, 0.0f64);
    for &seed in &seeds {
        for cam in 1..=cams {
            let s = generate(seed, cam, W, H, 25, 60);
            let r = SceneRenderer::new(&s, &font);
            let mut picks: Vec<u32> = Vec::new();
            let only = env_or("XL_SIM_DUMP_CLASSES", "car,bus,truck");
            for v in s
                .vehicles
                .iter()
                .filter(|v| only.contains(v.class.as_str()))
            {
                let mode = env_or("XL_SIM_DUMP_ELIGIBLE", "body");
                let i = s.vehicles.iter().position(|o| o.plate == v.plate).unwrap();
                let fully: Vec<u32> = if mode == "plate" {
                    // Art-independent picks: the plate centre nearest 75% and 88% of the height.
                    [0.75f32, 0.88]
                        .iter()
                        .filter_map(|&t| {
                            (v.start..v.start + v.frames).min_by(|&a, &b| {
                                let d = |f| {
                                    v.pose(&s.look, W, H, f)
                                        .map_or(f32::MAX, |p| (p.cy - t * H as f32).abs())
                                };
                                d(a).total_cmp(&d(b))
                            })
                        })
                        .collect()
                } else {
                    (v.start..v.start + v.frames)
                        .filter(|&f| {
                            v.pose(&s.look, W, H, f).is_some_and(|p| {
                                inside(if mode == "drawn" {
                                    r.vehicle_box(i, &p)
                                } else {
                                    p.body_box(v.class)
                                })
                            })
                        })
                        .collect()
                };
                if fully.is_empty() {
                    continue;
                }
                if mode == "plate" {
                    picks.extend(&fully);
                    continue;
                }
                for k in 0..per_vehicle {
                    let i = ((k as f32 + 0.5) / per_vehicle as f32 * fully.len() as f32) as usize;
                    picks.push(fully[i.min(fully.len() - 1)]);
                }
            }
            picks.sort_unstable();
            picks.dedup();
            for f in picks {
                let t = Instant::now();
                let frame = r.render(f);
                render_secs += t.elapsed().as_secs_f64();
                frames += 1;
                let name = format!("s{seed}c{cam}f{f:04}.png");
                save_png(&frame, &dir.join(&name));
                let vehicles: Vec<serde_json::Value> = s
                    .vehicles
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let p = v.pose(&s.look, W, H, f)?;
                        let body = p.body_box(v.class);
                        let drawn = r.vehicle_box(i, &p);
                        Some(serde_json::json!({
                            "class": v.class.as_str(),
                            "plate": v.plate,
                            "pw": p.pw,
                            "quad": p.quad,
                            "rgb": v.body_rgb,
                            "body_box": body,
                            "box": drawn,
                            "yaw": r.yaw(i),
                            "eligible": inside(body) && body[3] - body[1] >= 120.0,
                            "eligible_drawn": inside(drawn) && drawn[3] - drawn[1] >= 120.0,
                        }))
                    })
                    .collect();
                let line = serde_json::json!({
                    "image": name, "seed": seed, "camera": cam, "frame": f,
                    "dusk": s.look.dusk, "vehicles": vehicles,
                });
                writeln!(manifest, "{line}").unwrap();
            }
        }
    }
    std::io::stderr()
        .write_all(
            format!(
                "{frames} frames in {}, render {:.1} ms/frame\n",
                dir.display(),
                render_secs * 1000.0 / frames.max(1) as f64
            )
            .as_bytes(),
        )
        .unwrap();
}

#[test]
#[ignore]
fn time_render() {
    let n: u32 = env_or("XL_SIM_TIME_FRAMES", "250").parse().unwrap();
    let font = PlateFont::load().unwrap();
    let s = generate(1, 1, W, H, 25, 60);
    let t = Instant::now();
    let r = SceneRenderer::new(&s, &font);
    let setup = t.elapsed().as_secs_f64() * 1000.0;
    let (mut worst, mut sum) = (0.0f64, 0.0f64);
    for f in 0..n.min(s.frames) {
        let t = Instant::now();
        let frame = r.render(f);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        std::hint::black_box(&frame);
        worst = worst.max(ms);
        sum += ms;
    }
    let n = n.min(s.frames);
    // Body sprites alone (each is made once, when its vehicle first appears).
    let t = Instant::now();
    let vs: Vec<_> = s.vehicles.iter().take(8).collect();
    for (i, v) in vs.iter().enumerate() {
        std::hint::black_box(crate::vehicle_art::body_sprite(v, &s.look, r.yaw(i)));
    }
    let sprite = t.elapsed().as_secs_f64() * 1000.0 / vs.len() as f64;
    let busy: usize = (0..n)
        .map(|f| {
            s.vehicles
                .iter()
                .filter(|v| v.pose(&s.look, W, H, f).is_some())
                .count()
        })
        .sum();
    std::io::stderr()
        .write_all(
            format!(
                "{n} frames: {:.2} ms/frame on average (sprites included), worst {worst:.1} ms; \
                 setup {setup:.0} ms; one body sprite {sprite:.0} ms; {:.2} vehicles on screen\n",
                sum / n as f64,
                busy as f64 / n as f64
            )
            .as_bytes(),
        )
        .unwrap();
}

/// Montage of every class and shape variant on a plain road: `XL_SIM_DUMP_DIR`/models.png
/// (and models-dusk.png); 3 x 2 cells of 426 x 360 px, classes from `XL_SIM_PREVIEW`
/// (c car, b bus, t truck; default "cccbtt").
#[test]
#[ignore]
fn preview_models() {
    use crate::scenario::VehicleClass;
    let dir = PathBuf::from(env_or("XL_SIM_DUMP_DIR", "/tmp/xl-vehicle-dump"));
    std::fs::create_dir_all(&dir).unwrap();
    let classes = env_or("XL_SIM_PREVIEW", "cccbtt");
    for dusk in [false, true] {
        let mut s = generate(1, 1, W, H, 25, 60);
        s.look.dusk = dusk;
        s.look.light = if dusk { 0.55 } else { 1.0 };
        let colours = [
            [0.92, 0.92, 0.9],
            [0.08, 0.08, 0.09],
            [0.62, 0.63, 0.65],
            [0.6, 0.08, 0.08],
            [0.1, 0.2, 0.45],
            [0.1, 0.3, 0.7],
            [0.85, 0.85, 0.82],
            [0.15, 0.45, 0.25],
        ];
        let mut frame = Frame::new(W as usize, H as usize);
        let grey = crate::color::rgb_to_yuv8([0.42, 0.42, 0.43].map(|c| c * s.look.light));
        for y in 0..H as usize {
            for x in 0..W as usize {
                frame.data[y * frame.y_stride + x] = grey[0];
            }
        }
        let template = s.vehicles[0].clone();
        for (i, c) in classes.chars().take(6).enumerate() {
            let mut v = template.clone();
            v.class = match c {
                'b' => VehicleClass::Bus,
                't' => VehicleClass::Truck,
                _ => VehicleClass::Car,
            };
            v.plate = format!("V{i}");
            v.body_rgb = colours[i % colours.len()];
            let pw = if v.class == VehicleClass::Car {
                88.0
            } else {
                56.0
            };
            v.pw_to = pw;
            let (_, above, _) = v.class.extent();
            let pose = Pose {
                cx: 110.0 + 426.0 * (i % 3) as f32,
                cy: 360.0 * (i / 3) as f32 + 10.0 + above * pw,
                pw,
                quad: [[0.0; 2]; 4],
            };
            let yaw = crate::vehicle_models::build(v.class, 0).view.yaw;
            crate::vehicle_art::body_sprite(&v, &s.look, yaw).draw(&mut frame, &pose);
        }
        let name = if dusk {
            "models-dusk.png"
        } else {
            "models.png"
        };
        save_png(&frame, &dir.join(name));
    }
}

/// Prints each model's painted bounds around the plate centre next to the class extent.
#[test]
#[ignore]
fn print_bounds() {
    use crate::scenario::VehicleClass;
    use crate::vehicle_models::build;
    let mut out = String::new();
    for class in [VehicleClass::Car, VehicleClass::Bus, VehicleClass::Truck] {
        for variant in 0..4u64 {
            let m = build(class, variant);
            let cam = crate::vehicle_raster::Camera::looking_at(
                m.view.plate,
                m.view.pitch,
                m.view.yaw,
                m.view.dist,
                m.view.dist * m.view.scale,
            );
            let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
            for t in &m.mesh.tris {
                for v in &t.v {
                    let p = cam.project(v.p);
                    b = [
                        b[0].min(p[0]),
                        b[1].min(p[1]),
                        b[2].max(p[0]),
                        b[3].max(p[1]),
                    ];
                }
            }
            out += &format!(
                "{:5} v{variant}: x {:.2}..{:.2} y {:.2}..{:.2}   extent {:?}\n",
                class.as_str(),
                b[0],
                b[2],
                b[1],
                b[3],
                class.extent()
            );
        }
    }
    std::io::stderr().write_all(out.as_bytes()).unwrap();
}
