//! Low-poly 3D vehicle models in plate-width units (the plate is 1 wide), for
//! `vehicle_raster`. Axes: x right (as seen by the camera), y up, z towards the camera; the
//! ground is y = 0 and the plate centre is at (0, plate_y, plate_z) on the front face.
//! Each model fits the class's `VehicleClass::extent()` box around the plate once projected
//! by its view (checked in the tests).
use crate::scenario::VehicleClass;
use crate::vehicle_raster::{loft, Mat, Mesh, V3};

/// How the camera sees a model: pitch down (rad), distance from the plate centre (plate
/// widths), and the plate centre in model coordinates.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub pitch: f32,
    /// Preferred swing of the camera round the vehicle (rad, the sign is chosen per vehicle):
    /// a three-quarter view, which COCO detectors know best.
    pub yaw: f32,
    pub dist: f32,
    /// Size of the body relative to the plate (the plate keeps its size).
    pub scale: f32,
    pub plate: V3,
}

pub struct Model {
    pub mesh: Mesh,
    /// Ground shadow (drawn first, never hides the body).
    pub shadow: Mesh,
    pub view: View,
}

/// Deterministic small hash of a string (FNV-1a) to pick shape variants per vehicle.
pub fn variant_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

pub fn build(class: VehicleClass, variant: u64) -> Model {
    match class {
        VehicleClass::Car => car(variant),
        VehicleClass::Bus => bus(variant),
        VehicleClass::Truck => truck(variant),
    }
}

/// Left-right symmetric cross-section through (half width, height) points listed from the
/// left bottom over the top; returns the full ring at depth z, left to right.
fn ring(z: f32, half: &[(f32, f32)]) -> Vec<V3> {
    let mut r: Vec<V3> = half.iter().map(|&(x, y)| [-x, y, z]).collect();
    let mirrored: Vec<V3> = half
        .iter()
        .rev()
        .filter(|p| p.0 > 0.0)
        .map(|&(x, y)| [x, y, z])
        .collect();
    // The centre point (x = 0) is shared.
    r.extend(mirrored);
    r
}

fn flat_shadow(mesh: &mut Mesh, hw: f32, z0: f32, z1: f32) {
    mesh.quad(
        [
            [-hw, 0.003, z1],
            [hw, 0.003, z1],
            [hw, 0.003, z0],
            [-hw, 0.003, z0],
        ],
        Mat::Shadow,
    );
}

/// Quad on a plane of constant z (slightly in front of a face): x0..x1, y0..y1.
fn decal(mesh: &mut Mesh, z: f32, x0: f32, y0: f32, x1: f32, y1: f32, mat: Mat) {
    mesh.quad([[x0, y1, z], [x1, y1, z], [x1, y0, z], [x0, y0, z]], mat);
}

/// Mirrored pair of a decal-like quad given by its left-side corners (TL, TR, BR, BL).
fn pair(mesh: &mut Mesh, q: [V3; 4], mat: Mat) {
    mesh.quad(q, mat);
    let m = q.map(|p| [-p[0], p[1], p[2]]);
    mesh.quad([m[1], m[0], m[3], m[2]], mat);
}

/// Passenger car: sedan, hatchback or SUV by `variant`.
fn car(variant: u64) -> Model {
    let kind = variant % 3; // 0 sedan, 1 SUV, 2 hatchback
    let big_grille = (variant / 3) % 2 == 0;
    let suv = kind == 1;
    let lift = if suv { 0.14 } else { 0.0 };
    let roof = if suv { 2.5 } else { 2.33 };
    let mut m = Mesh::default();
    let belt = 1.5 + lift;
    // Bumper top, lamp band, hood front edge.
    let (bt, lb, lt, hood_f) = (0.84 + lift, 0.9 + lift, 1.12 + lift, 1.2 + lift);
    let hood_r = 1.42 + lift;
    let ws_base = -2.6;
    let ws_top = if suv { -3.7 } else { -3.9 };
    let roof_end = if kind == 0 { -5.7 } else { -6.5 };
    let tail = if kind == 0 { -7.6 } else { -7.0 };
    let rk = 0.3 + lift * 0.6; // rocker height
    let (axle_f, axle_r) = (-1.5, tail + 1.5);
    // Stations: z, then (half width, height) from the rocker up to the crown: rocker, side
    // bulge, shoulder, outer edge of the top, inner edge (pillar / lamp), crown.
    type St = (f32, [(f32, f32); 6]);
    let arch = |z: f32, top: f32, crown: f32| -> Vec<St> {
        vec![
            (
                z + 0.6,
                [
                    (1.44, rk + 0.15),
                    (1.47, 0.75),
                    (1.47, top - 0.05),
                    (1.41, top - 0.01),
                    (0.9, top + 0.03),
                    (0.0, crown),
                ],
            ),
            (
                z,
                [
                    (1.46, 0.96),
                    (1.47, 1.0),
                    (1.47, top),
                    (1.41, top + 0.04),
                    (0.9, top + 0.08),
                    (0.0, crown + 0.05),
                ],
            ),
            (
                z - 0.6,
                [
                    (1.46, rk + 0.15),
                    (1.48, 0.75),
                    (1.47, top + 0.04),
                    (1.41, top + 0.08),
                    (0.9, top + 0.12),
                    (0.0, crown + 0.1),
                ],
            ),
        ]
    };
    let mut st: Vec<St> = vec![
        // Bumper top edge: lower corners cut back so the tyres show.
        (
            0.0,
            [
                (1.15, rk + 0.04),
                (1.34, 0.56),
                (1.4, bt),
                (1.34, bt + 0.01),
                (0.58, bt + 0.02),
                (0.0, bt + 0.02),
            ],
        ),
        // Lamp band bottom and top (the fascia leans back a little).
        (
            -0.06,
            [
                (1.24, rk + 0.02),
                (1.39, 0.57),
                (1.42, lb),
                (1.36, lb + 0.01),
                (0.6, lb + 0.02),
                (0.0, lb + 0.02),
            ],
        ),
        (
            -0.2,
            [
                (1.32, rk),
                (1.42, 0.58),
                (1.44, lt),
                (1.38, lt + 0.01),
                (0.62, lt + 0.02),
                (0.0, lt + 0.02),
            ],
        ),
        // Hood front edge.
        (
            -0.34,
            [
                (1.38, rk),
                (1.44, 0.6),
                (1.46, hood_f - 0.02),
                (1.4, hood_f + 0.02),
                (0.7, hood_f + 0.05),
                (0.0, hood_f + 0.06),
            ],
        ),
    ];
    st.extend(arch(axle_f, hood_f + 0.12, hood_f + 0.2));
    st.extend([
        // Windscreen base, top; roof end.
        (
            ws_base,
            [
                (1.46, rk),
                (1.49, 0.74),
                (1.47, belt),
                (1.42, belt + 0.03),
                (1.24, belt + 0.05),
                (0.0, belt + 0.07),
            ],
        ),
        (
            ws_top,
            [
                (1.46, rk),
                (1.49, 0.75),
                (1.47, belt + 0.05),
                (1.12, roof - 0.06),
                (0.98, roof),
                (0.0, roof + 0.04),
            ],
        ),
        (
            roof_end,
            [
                (1.46, rk),
                (1.49, 0.75),
                (1.47, belt + 0.06),
                (1.12, roof - 0.08),
                (0.98, roof - 0.02),
                (0.0, roof + 0.02),
            ],
        ),
    ]);
    if kind == 0 {
        st.push((
            -6.7,
            [
                (1.45, rk),
                (1.48, 0.74),
                (1.45, belt + 0.04),
                (1.4, belt + 0.1),
                (1.22, belt + 0.12),
                (0.0, belt + 0.14),
            ],
        ));
    }
    st.push((
        tail,
        [
            (1.38, rk + 0.06),
            (1.42, 0.7),
            (1.38, belt - 0.05),
            (1.34, belt - 0.02),
            (1.16, belt),
            (0.0, belt + 0.02),
        ],
    ));
    let rows: Vec<Vec<V3>> = st.iter().map(|(z, h)| ring(*z, h)).collect();
    let n_st = rows.len();
    // Row intervals: 0 bumper strip, 1 lamp band, 2 strip below the hood edge, 3..6 hood,
    // 7 windscreen, 8 roof, 9 rear glass (sedan) or tailgate, then the boot.
    let ncol = rows[0].len() - 1;
    let glass = Mat::Glass(belt, roof);
    loft(&mut m, &rows, 0.75, |i, j| {
        let j = j.min(ncol - 1 - j);
        let cabin = (7..n_st - 2).contains(&i);
        match (i, j) {
            (0..=2, 0) => Mat::Plastic,
            (_, 0) => Mat::PaintDark(0.85),
            (1, 3) => Mat::Lamp,
            (1, 4) => Mat::Grille(3.0),
            (_, 2) if cabin => glass,
            (7, 3) => Mat::Paint,
            (7, 4) => glass,
            (9, 3..) if kind == 0 => glass,
            _ => Mat::Paint,
        }
    });
    // Bumper face: flat at z = 0 with normals bent outwards at the rim.
    let front = &rows[0];
    let c: V3 = [0.0, 0.58, 0.0];
    let n = front.len();
    for k in 0..n {
        let (a, b) = (front[k], front[(k + 1) % n]);
        let out =
            |p: V3| crate::vehicle_raster::norm([p[0] / 1.4 * 0.6, (p[1] - 0.58) / 0.3 * 0.3, 1.0]);
        m.quad_n(
            [c, a, b, c],
            [[0.0, 0.0, 1.0], out(a), out(b), [0.0, 0.0, 1.0]],
            Mat::Paint,
        );
    }
    // Back cap (rarely visible).
    let back = rows.last().unwrap().clone();
    let bc: V3 = [0.0, 0.8, tail];
    for k in 0..back.len() {
        let (a, b) = (back[k], back[(k + 1) % back.len()]);
        m.quad([bc, b, a, bc], Mat::Paint);
    }
    let z = 0.02;
    if big_grille {
        // One big trapezoid grille down the bumper, the plate sitting in it.
        m.quad(
            [
                [-0.7, bt + 0.01, z],
                [0.7, bt + 0.01, z],
                [0.56, rk + 0.12, z],
                [-0.56, rk + 0.12, z],
            ],
            Mat::Chrome,
        );
        m.quad(
            [
                [-0.64, bt - 0.03, z + 0.005],
                [0.64, bt - 0.03, z + 0.005],
                [0.52, rk + 0.16, z + 0.005],
                [-0.52, rk + 0.16, z + 0.005],
            ],
            Mat::Grille(7.0),
        );
    } else {
        // Plate recess and a wide lower intake.
        decal(&mut m, z, -0.58, 0.43, 0.58, 0.77, Mat::Plastic);
        decal(&mut m, z, -0.95, rk + 0.05, 0.95, 0.4, Mat::Grille(2.0));
    }
    // Fog lamp pods.
    pair(
        &mut m,
        [
            [-1.26, 0.56, z],
            [-1.0, 0.56, z],
            [-1.0, 0.4, z],
            [-1.2, 0.4, z],
        ],
        Mat::Plastic,
    );
    pair(
        &mut m,
        [
            [-1.2, 0.53, z + 0.005],
            [-1.04, 0.53, z + 0.005],
            [-1.04, 0.43, z + 0.005],
            [-1.18, 0.43, z + 0.005],
        ],
        Mat::Lamp,
    );
    // Badge on the grille.
    let (gy, gz) = (0.5 * (lb + lt), -0.13);
    m.quad(
        [
            [-0.12, gy + 0.05, gz + 0.02],
            [0.12, gy + 0.05, gz + 0.02],
            [0.12, gy - 0.04, gz + 0.05],
            [-0.12, gy - 0.04, gz + 0.05],
        ],
        Mat::Chrome,
    );
    // Wing mirrors at the base of the A-pillars: a housing on a short black arm.
    let mz = ws_base - 0.15;
    for s in [-1.0f32, 1.0] {
        let sx = |a: f32, b: f32| if s < 0.0 { (-b, -a) } else { (a, b) };
        let (x0, x1) = sx(1.42, 1.64);
        m.cuboid(
            [x0, belt + 0.06, mz - 0.3],
            [x1, belt + 0.26, mz],
            Mat::Paint,
        );
        let (a0, a1) = sx(1.4, 1.5);
        m.cuboid(
            [a0, belt - 0.02, mz - 0.25],
            [a1, belt + 0.08, mz - 0.08],
            Mat::Plastic,
        );
        let wx = 0.55 * s;
        m.quad(
            [
                [wx - 0.5, belt + 0.1, ws_base - 0.06],
                [wx + 0.45, belt + 0.14, ws_base - 0.14],
                [wx + 0.45, belt + 0.11, ws_base - 0.1],
                [wx - 0.5, belt + 0.07, ws_base - 0.02],
            ],
            Mat::Plastic,
        );
    }
    for s in [-1.0f32, 1.0] {
        m.wheel(1.22 * s, axle_f, 0.56, 0.23, s);
        m.wheel(1.22 * s, axle_r, 0.56, 0.23, s);
    }
    // Dark underbody.
    m.quad(
        [
            [-1.4, rk, -0.05],
            [1.4, rk, -0.05],
            [1.4, rk, tail + 0.2],
            [-1.4, rk, tail + 0.2],
        ],
        Mat::Tyre,
    );
    let mut shadow = Mesh::default();
    flat_shadow(&mut shadow, 1.7, 0.4, tail - 0.3);
    Model {
        mesh: m,
        shadow,
        view: View {
            pitch: dev_param("XL_ART_PITCH", 0.08),
            yaw: dev_param("XL_ART_YAW", 0.5),
            dist: dev_param("XL_ART_DIST", 10.0),
            scale: dev_param("XL_ART_SCALE", 0.8),
            plate: [0.0, 0.6, 0.02],
        },
    }
}

/// Development override of a tuning constant (unset in production).
fn dev_param(key: &str, default: f32) -> f32 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// City bus: tall box with rounded edges, big two-piece windscreen, destination sign.
fn bus(variant: u64) -> Model {
    let _ = variant;
    let mut m = Mesh::default();
    let (hw, top, len) = (2.0, 4.7, 14.0);
    let st: Vec<(f32, [(f32, f32); 6])> = vec![
        (
            0.0,
            [
                (hw - 0.08, 0.3),
                (hw - 0.02, 0.9),
                (hw - 0.02, 3.0),
                (hw - 0.1, top - 0.15),
                (hw - 0.35, top - 0.02),
                (0.0, top),
            ],
        ),
        (
            -0.3,
            [
                (hw, 0.3),
                (hw + 0.02, 0.9),
                (hw, 3.0),
                (hw - 0.02, top - 0.05),
                (hw - 0.3, top + 0.04),
                (0.0, top + 0.06),
            ],
        ),
        (
            -len,
            [
                (hw, 0.3),
                (hw + 0.02, 0.9),
                (hw, 3.0),
                (hw - 0.02, top - 0.05),
                (hw - 0.3, top + 0.04),
                (0.0, top + 0.06),
            ],
        ),
    ];
    let rows: Vec<Vec<V3>> = st.iter().map(|(z, h)| ring(*z, h)).collect();
    let ncol = rows[0].len() - 1;
    loft(&mut m, &rows, 0.6, |_, j| {
        let j = j.min(ncol - 1 - j);
        match j {
            0 => Mat::PaintDark(0.75),
            1 => Mat::Paint,
            2 => Mat::Glass(1.7, 3.0),
            _ => Mat::Solid([0.8, 0.8, 0.8]),
        }
    });
    let front = &rows[0];
    let c: V3 = [0.0, 2.4, 0.0];
    for k in 0..front.len() {
        let (a, b) = (front[k], front[(k + 1) % front.len()]);
        m.quad([c, a, b, c], Mat::Paint);
    }
    let z = 0.02;
    // Windscreen (two panes), sign above it, black band below.
    decal(&mut m, z, -1.85, 1.75, -0.03, 3.9, Mat::Glass(1.75, 3.9));
    decal(&mut m, z, 0.03, 1.75, 1.85, 3.9, Mat::Glass(1.75, 3.9));
    decal(&mut m, z, -1.6, 4.0, 1.6, 4.5, Mat::Sign);
    decal(&mut m, z, -1.95, 1.6, 1.95, 1.72, Mat::Plastic);
    // Headlamps low at the corners, grille slot, plate recess, bumper.
    pair(
        &mut m,
        [
            [-1.9, 1.05, z],
            [-1.35, 1.05, z],
            [-1.35, 0.8, z],
            [-1.9, 0.8, z],
        ],
        Mat::Lamp,
    );
    decal(&mut m, z, -1.1, 0.98, 1.1, 1.4, Mat::Grille(5.0));
    decal(&mut m, z, -0.58, 0.52, 0.58, 0.88, Mat::Plastic);
    decal(&mut m, z, -2.0, 0.3, 2.0, 0.45, Mat::Plastic);
    for s in [-1.0f32, 1.0] {
        m.wheel(1.75 * s, -2.2, 0.6, 0.25, s);
        // Mirrors on stalks, hanging in front of the windscreen corners.
        let x = 2.05 * s;
        m.cuboid(
            [x.min(x + 0.1 * s), 3.0, 0.35],
            [x.max(x + 0.1 * s), 3.5, 0.5],
            Mat::Plastic,
        );
    }
    let mut shadow = Mesh::default();
    flat_shadow(&mut shadow, 2.25, 0.5, -len);
    Model {
        mesh: m,
        shadow,
        view: View {
            pitch: 0.12,
            yaw: dev_param("XL_ART_YAW", 0.0),
            dist: 30.0,
            scale: 1.0,
            plate: [0.0, 0.7, 0.03],
        },
    }
}

/// Cab-over truck with a tall cargo box (or container) behind and above the cab.
fn truck(variant: u64) -> Model {
    let mut m = Mesh::default();
    let hw = 1.95;
    let cab_top = 3.3;
    let st: Vec<(f32, [(f32, f32); 6])> = vec![
        (
            0.0,
            [
                (hw - 0.1, 0.35),
                (hw - 0.05, 1.0),
                (hw - 0.05, 1.6),
                (hw - 0.1, cab_top - 0.1),
                (hw - 0.3, cab_top),
                (0.0, cab_top + 0.02),
            ],
        ),
        (
            -0.35,
            [
                (hw, 0.35),
                (hw, 1.0),
                (hw, 1.7),
                (hw - 0.05, cab_top - 0.05),
                (hw - 0.25, cab_top + 0.05),
                (0.0, cab_top + 0.07),
            ],
        ),
        (
            -2.6,
            [
                (hw, 0.35),
                (hw, 1.0),
                (hw, 1.7),
                (hw - 0.05, cab_top - 0.05),
                (hw - 0.25, cab_top + 0.05),
                (0.0, cab_top + 0.07),
            ],
        ),
    ];
    let rows: Vec<Vec<V3>> = st.iter().map(|(z, h)| ring(*z, h)).collect();
    let ncol = rows[0].len() - 1;
    loft(&mut m, &rows, 0.6, |_, j| {
        let j = j.min(ncol - 1 - j);
        match j {
            2 => Mat::Glass(1.7, 3.0),
            _ => Mat::Paint,
        }
    });
    let front = &rows[0];
    let c: V3 = [0.0, 1.8, 0.0];
    for k in 0..front.len() {
        let (a, b) = (front[k], front[(k + 1) % front.len()]);
        m.quad([c, a, b, c], Mat::Paint);
    }
    let z = 0.02;
    decal(&mut m, z, -1.75, 2.0, 1.75, 3.05, Mat::Glass(2.0, 3.05));
    decal(&mut m, z, -1.2, 1.05, 1.2, 1.8, Mat::Grille(6.0));
    decal(
        &mut m,
        z,
        -1.95,
        0.35,
        1.95,
        0.95,
        Mat::Solid([0.2, 0.2, 0.22]),
    );
    pair(
        &mut m,
        [
            [-1.9, 0.85, z + 0.01],
            [-1.35, 0.85, z + 0.01],
            [-1.35, 0.6, z + 0.01],
            [-1.9, 0.6, z + 0.01],
        ],
        Mat::Lamp,
    );
    decal(&mut m, z + 0.01, -0.58, 0.52, 0.58, 0.88, Mat::Plastic);
    // Cargo body: box van or container, taller and wider than the cab.
    let cargo_col = match variant % 4 {
        0 => [0.85, 0.85, 0.83],
        1 => [0.2, 0.35, 0.6],
        2 => [0.7, 0.25, 0.15],
        _ => [0.55, 0.57, 0.58],
    };
    let (bx, btop) = (2.1, 4.4);
    m.cuboid([-bx, 0.9, -14.0], [bx, btop, -2.9], Mat::Solid(cargo_col));
    // Ribs on the box front.
    for k in 0..6 {
        let x = -bx + 0.1 + k as f32 * (2.0 * bx - 0.2) / 5.0;
        decal(
            &mut m,
            -2.89,
            x - 0.04,
            cab_top,
            x + 0.04,
            btop - 0.05,
            Mat::Solid([0.4, 0.4, 0.42]),
        );
    }
    for s in [-1.0f32, 1.0] {
        m.wheel(1.7 * s, -1.6, 0.62, 0.28, s);
        m.wheel(1.7 * s, -10.0, 0.62, 0.28, s);
        let x = 2.08 * s;
        m.cuboid(
            [x.min(x + 0.12 * s), 2.2, 0.2],
            [x.max(x + 0.12 * s), 2.9, 0.35],
            Mat::Plastic,
        );
    }
    let mut shadow = Mesh::default();
    flat_shadow(&mut shadow, 2.3, 0.5, -14.0);
    Model {
        mesh: m,
        shadow,
        view: View {
            pitch: 0.2,
            yaw: dev_param("XL_ART_YAW", 0.0),
            dist: 28.0,
            scale: 1.0,
            plate: [0.0, 0.7, 0.03],
        },
    }
}
