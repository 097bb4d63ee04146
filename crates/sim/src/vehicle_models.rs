//! Low-poly 3D vehicle models in plate-width units (the plate is 1 wide), for
//! `vehicle_raster`. Axes: x right (as seen by the camera), y up, z towards the camera; the
//! ground is y = 0 and the plate centre is at (0, plate_y, plate_z) on the front face.
//! Seen straight on, each model fits the class's `VehicleClass::extent()` box around the
//! plate (checked in `vehicle_art`'s tests); turned to its three-quarter view it may reach
//! past it sideways, which `vehicle_art::plan_yaws` allows only where no other body is.
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
    let big_grille = (variant / 3).is_multiple_of(2);
    let suv = kind == 1;
    let lift = if suv { 0.14 } else { 0.0 };
    let roof = if suv { 2.5 } else { 2.33 };
    let mut m = Mesh::default();
    let belt = 1.5 + lift;
    // Bumper top, lamp band, hood front edge.
    let (bt, lb, lt, hood_f) = (0.84 + lift, 0.9 + lift, 1.12 + lift, 1.2 + lift);
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
            pitch: 0.08,
            yaw: 0.5,
            dist: 13.0,
            scale: 0.8,
            plate: [0.0, 0.6, 0.02],
        },
    }
}

/// Quad on the plane x = `x` (a vehicle side): z0..z1 (z0 nearer the front), y0..y1.
fn side(mesh: &mut Mesh, x: f32, z0: f32, y0: f32, z1: f32, y1: f32, mat: Mat) {
    mesh.quad([[x, y1, z0], [x, y1, z1], [x, y0, z1], [x, y0, z0]], mat);
}

/// A box body with rounded vertical and top edges from z = 0 back to `-len`, of cross
/// section `(half width, bottom, top)`; `mat(j)` per ring column (0 lower side, 1 side, 2
/// upper side, 3 top edge, 4 top). The front and back faces are flat caps in `front`.
fn box_body(
    m: &mut Mesh,
    len: f32,
    (hw, bottom, top): (f32, f32, f32),
    front: Mat,
    mat: impl Fn(usize) -> Mat,
) {
    let z0 = 0.0;
    let r = 0.12;
    let section = |inset: f32| -> [(f32, f32); 6] {
        [
            (hw - inset - 0.04, bottom),
            (hw - inset, bottom + 0.5),
            (hw - inset, top - 0.35),
            (hw - inset - r * 0.5, top - r * 0.5),
            (hw - inset - 0.35, top - inset * 0.5),
            (0.0, top - inset * 0.5 + 0.02),
        ]
    };
    let rows: Vec<Vec<V3>> = [(z0, 0.1), (z0 - 0.12, 0.0), (z0 - len, 0.0)]
        .iter()
        .map(|&(z, inset)| ring(z, &section(inset)))
        .collect();
    let ncol = rows[0].len() - 1;
    loft(m, &rows, 0.6, |_, j| mat(j.min(ncol - 1 - j)));
    let f = &rows[0];
    let c: V3 = [0.0, 0.5 * (bottom + top), z0];
    for k in 0..f.len() {
        m.quad([c, f[k], f[(k + 1) % f.len()], c], front);
    }
    let b = &rows[2];
    let c: V3 = [0.0, 0.5 * (bottom + top), z0 - len];
    for k in 0..b.len() {
        m.quad([c, b[(k + 1) % b.len()], b[k], c], front);
    }
}

/// City bus: a tall box with a big windscreen, destination sign, a row of side windows and a
/// front door.
fn bus(variant: u64) -> Model {
    let mut m = Mesh::default();
    let (hw, top, len) = (2.0, 5.1, 19.0);
    let roof = Mat::Solid([0.82, 0.83, 0.84]);
    box_body(&mut m, len, (hw, 0.35, top), Mat::Paint, |j| match j {
        0 => Mat::PaintDark(0.7),
        3 | 4 => roof,
        _ => Mat::Paint,
    });
    let z = 0.02;
    // Front: windscreen with a centre post, destination sign, lamps, grille, bumper.
    decal(&mut m, z, -1.86, 1.95, 1.86, 4.3, Mat::Glass(1.95, 4.3));
    decal(&mut m, z + 0.005, -0.04, 1.95, 0.04, 4.3, Mat::Plastic);
    decal(&mut m, z, -1.7, 4.4, 1.7, 4.9, Mat::Sign);
    decal(&mut m, z, -1.95, 1.78, 1.95, 1.95, Mat::Plastic);
    pair(
        &mut m,
        [
            [-1.92, 1.38, z],
            [-1.3, 1.38, z],
            [-1.3, 1.02, z],
            [-1.92, 1.02, z],
        ],
        Mat::Lamp,
    );
    decal(&mut m, z, -1.1, 1.1, 1.1, 1.5, Mat::Grille(5.0));
    decal(&mut m, z, -2.0, 0.35, 2.0, 0.62, Mat::Plastic);
    decal(&mut m, z + 0.005, -0.58, 0.57, 0.58, 0.93, Mat::Plastic);
    for s in [-1.0f32, 1.0] {
        let x = s * (hw + 0.01);
        // Front door (glass to the floor), then the passenger windows with pillars.
        side(&mut m, x, -0.3, 0.7, -2.2, 4.15, Mat::Glass(0.7, 4.15));
        side(&mut m, x * 1.001, -1.22, 0.7, -1.28, 4.15, Mat::Plastic);
        side(
            &mut m,
            x,
            -2.5,
            2.45,
            -len + 0.6,
            4.15,
            Mat::Glass(2.45, 4.15),
        );
        let mut zz = -2.5;
        while zz > -len + 0.6 {
            side(&mut m, x * 1.001, zz, 2.45, zz - 0.14, 4.15, Mat::Plastic);
            zz -= 2.1;
        }
        // A coloured band under the windows.
        side(&mut m, x, -2.3, 1.5, -len + 0.3, 1.8, Mat::PaintDark(0.6));
        m.wheel(1.62 * s, -3.4, 0.85, 0.35, s);
        m.wheel(1.62 * s, -len + 4.0, 0.85, 0.35, s);
        // Mirrors on arms in front of the windscreen corners.
        let (x0, x1) = if s < 0.0 { (-2.2, -2.02) } else { (2.02, 2.2) };
        m.cuboid([x0, 3.1, 0.3], [x1, 3.9, 0.5], Mat::Plastic);
        m.cuboid(
            [x0.min(x1), 4.2, 0.0],
            [x0.max(x1), 4.3, 0.45],
            Mat::Plastic,
        );
    }
    // Air conditioning unit on the roof.
    m.cuboid([-1.3, top, -5.0], [1.3, top + 0.35, -8.5], roof);
    let _ = variant;
    let mut shadow = Mesh::default();
    flat_shadow(&mut shadow, 2.3, 0.5, -len - 0.3);
    Model {
        mesh: m,
        shadow,
        view: View {
            pitch: 0.08,
            yaw: 0.4,
            dist: 22.0,
            scale: 0.8,
            plate: [0.0, 0.75, 0.03],
        },
    }
}

/// Cab-over lorry with a cargo body (box van, ribbed container or tipper) behind and above the
/// cab.
fn truck(variant: u64) -> Model {
    let mut m = Mesh::default();
    let (hw, cab_top, cab_len) = (1.95, 4.4, 3.4);
    box_body(
        &mut m,
        cab_len,
        (hw, 0.9, cab_top),
        Mat::Paint,
        |j| match j {
            0 => Mat::PaintDark(0.7),
            _ => Mat::Paint,
        },
    );
    let z = 0.02;
    decal(&mut m, z, -1.78, 2.6, 1.78, 4.05, Mat::Glass(2.6, 4.05));
    decal(&mut m, z, -1.3, 1.3, 1.3, 2.4, Mat::Grille(8.0));
    decal(&mut m, z + 0.005, -0.25, 1.75, 0.25, 1.95, Mat::Chrome);
    // Steel bumper with lamps, plate recess.
    m.cuboid(
        [-2.0, 0.35, -0.2],
        [2.0, 1.15, 0.12],
        Mat::Solid([0.22, 0.22, 0.24]),
    );
    pair(
        &mut m,
        [
            [-1.92, 1.05, 0.14],
            [-1.35, 1.05, 0.14],
            [-1.35, 0.75, 0.14],
            [-1.92, 0.75, 0.14],
        ],
        Mat::Lamp,
    );
    decal(&mut m, 0.14, -0.58, 0.57, 0.58, 0.93, Mat::Plastic);
    for s in [-1.0f32, 1.0] {
        let x = s * (hw + 0.01);
        // Door window and step.
        side(&mut m, x, -0.35, 2.6, -2.3, 4.0, Mat::Glass(2.6, 4.0));
        side(&mut m, x, -0.6, 0.9, -2.0, 1.05, Mat::Plastic);
        m.wheel(1.6 * s, -1.7, 0.8, 0.32, s);
        m.wheel(1.6 * s, -13.0, 0.8, 0.32, s);
        m.wheel(1.6 * s, -14.8, 0.8, 0.32, s);
        // Big mirrors on arms.
        let (x0, x1) = if s < 0.0 { (-2.35, -2.1) } else { (2.1, 2.35) };
        m.cuboid([x0, 2.6, -0.4], [x1, 3.8, -0.2], Mat::Plastic);
        m.cuboid(
            [x0.min(x1) - 0.1, 3.6, -0.45],
            [x0.max(x1) + 0.1, 3.7, -0.1],
            Mat::Plastic,
        );
        // Chassis rail, fuel tank and side guard between the axles.
        side(
            &mut m,
            s * 1.35,
            -3.6,
            0.8,
            -16.5,
            1.4,
            Mat::Solid([0.12, 0.12, 0.13]),
        );
        m.cuboid(
            [
                s * 1.35 - 0.01 + if s < 0.0 { -0.5 } else { 0.0 },
                0.7,
                -5.2,
            ],
            [s * 1.35 + 0.01 + if s < 0.0 { 0.0 } else { 0.5 }, 1.3, -7.2],
            Mat::Chrome,
        );
    }
    let kind = variant % 4;
    let (bx, b0, z0, z1) = (2.05, 1.45, -cab_len - 0.25, -17.0);
    // Cargo paint: saturated colours stand out from the grey road (a grey tipper scored
    // 0.1-0.2, an orange one 0.7).
    let colours = [
        [0.86, 0.45, 0.1],
        [0.16, 0.32, 0.66],
        [0.72, 0.16, 0.1],
        [0.88, 0.88, 0.86],
        [0.2, 0.46, 0.26],
    ];
    let cargo = colours[((variant / 4) % 5) as usize];
    match kind {
        // Box van or ribbed container, well above the cab roof.
        0 | 1 | 3 => {
            let btop = 6.1;
            m.cuboid([-bx, b0, z1], [bx, btop, z0], Mat::Solid(cargo));
            let ribs = if kind == 1 { 0.55 } else { 2.4 };
            let rib = Mat::Solid(cargo.map(|c| c * 0.7));
            let mut zz = z0 - 0.2;
            while zz > z1 + 0.2 {
                for s in [-1.0f32, 1.0] {
                    side(&mut m, s * (bx + 0.01), zz, b0, zz - 0.08, btop, rib);
                }
                zz -= ribs;
            }
            // Front wall ribs above the cab, and the top rail.
            for k in 0..7 {
                let x = -bx + 0.15 + k as f32 * (2.0 * bx - 0.3) / 6.0;
                decal(
                    &mut m,
                    z0 + 0.01,
                    x - 0.05,
                    cab_top,
                    x + 0.05,
                    btop - 0.1,
                    rib,
                );
            }
            decal(&mut m, z0 + 0.01, -bx, btop - 0.2, bx, btop, rib);
        }
        // Tipper: open steel body with a raised front guard over the cab.
        _ => {
            let (wall, btop) = (0.12, 5.0);
            let steel = Mat::Solid(cargo);
            m.cuboid([-bx, b0, z1], [bx, b0 + 0.3, z0], steel);
            m.cuboid([-bx, b0, z1], [-bx + wall, btop, z0], steel);
            m.cuboid([bx - wall, b0, z1], [bx, btop, z0], steel);
            m.cuboid([-bx, b0, z0 - wall], [bx, btop + 0.9, z0], steel);
            m.cuboid([-bx, b0, z1], [bx, btop, z1 + wall], steel);
            // The load inside (sand, gravel) seen over the walls.
            m.quad(
                [
                    [-bx + wall, btop - 0.5, z0 - wall],
                    [bx - wall, btop - 0.5, z0 - wall],
                    [bx - wall, btop - 0.9, z1 + wall],
                    [-bx + wall, btop - 0.9, z1 + wall],
                ],
                Mat::Solid([0.5, 0.45, 0.38]),
            );
            // Horizontal stiffeners on the sides.
            for s in [-1.0f32, 1.0] {
                for y in [b0 + 1.0, b0 + 2.2] {
                    side(
                        &mut m,
                        s * (bx + 0.01),
                        z0,
                        y,
                        z1,
                        y + 0.15,
                        Mat::Solid(cargo.map(|c| c * 0.7)),
                    );
                }
            }
        }
    }
    let mut shadow = Mesh::default();
    flat_shadow(&mut shadow, 2.35, 0.5, z1 - 0.3);
    Model {
        mesh: m,
        shadow,
        view: View {
            pitch: 0.08,
            yaw: 0.85,
            dist: 22.0,
            scale: 0.6,
            plate: [0.0, 0.75, 0.14],
        },
    }
}
