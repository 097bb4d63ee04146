//! A tiny 3D renderer for vehicle bodies: triangle meshes with per-vertex normals and UVs,
//! a perspective camera looking down at the vehicle's front, a z-buffer, and per-pixel shading
//! (hemisphere + sun diffuse, Fresnel reflection of a sky/ground environment, sun highlight),
//! so paint shows the smooth gradients and horizon reflections of real car bodies. Output is a
//! straight (not premultiplied) RGBA image: alpha 1 on the body, partial on the shadow.

pub type V3 = [f32; 3];

pub fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
pub fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
pub fn mul(a: V3, k: f32) -> V3 {
    [a[0] * k, a[1] * k, a[2] * k]
}
pub fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
pub fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
pub fn norm(a: V3) -> V3 {
    let l = dot(a, a).sqrt();
    if l > 1e-12 {
        mul(a, 1.0 / l)
    } else {
        [0.0, 1.0, 0.0]
    }
}
/// Surface kinds; each shades differently (see `Shader::shade`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mat {
    /// Car paint in the body colour (clear coat).
    Paint,
    /// Paint darkened by `k` (lower panels in shade, painted trim).
    PaintDark(f32),
    /// Glass with a dark cabin behind; the pane spans heights y0..y1 (reflection gradient).
    Glass(f32, f32),
    /// Matt black plastic (bumper trim, mirror housings, wipers).
    Plastic,
    /// Grille: dark with horizontal bars (`v` across, `bars` count).
    Grille(f32),
    /// Lamp lens over a chrome reflector; emissive at dusk.
    Lamp,
    /// Tyre rubber.
    Tyre,
    /// Polished metal (rims, badges, grille surround).
    Chrome,
    /// Flat colour with a little sheen (containers, signs, cargo).
    Solid([f32; 3]),
    /// Bus destination sign: dark panel with orange LED text pattern.
    Sign,
    /// Soft ground shadow; `u, v` in -1..1 give the falloff.
    Shadow,
}

#[derive(Clone, Copy)]
pub struct Vert {
    pub p: V3,
    pub n: V3,
    pub uv: [f32; 2],
}

#[derive(Clone, Copy)]
pub struct Tri {
    pub v: [Vert; 3],
    pub mat: Mat,
}

#[derive(Default)]
pub struct Mesh {
    pub tris: Vec<Tri>,
}

fn face_normal(a: V3, b: V3, c: V3) -> V3 {
    norm(cross(sub(b, a), sub(c, a)))
}

impl Mesh {
    /// Quad a-b-c-d (any winding) with one flat normal, UV (0,0) (1,0) (1,1) (0,1).
    pub fn quad(&mut self, q: [V3; 4], mat: Mat) {
        let n = norm(add(
            face_normal(q[0], q[1], q[2]),
            face_normal(q[0], q[2], q[3]),
        ));
        self.quad_n(q, [n; 4], mat);
    }

    /// Quad with explicit vertex normals.
    pub fn quad_n(&mut self, q: [V3; 4], n: [V3; 4], mat: Mat) {
        let uv = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let v = |i: usize| Vert {
            p: q[i],
            n: n[i],
            uv: uv[i],
        };
        self.tris.push(Tri {
            v: [v(0), v(1), v(2)],
            mat,
        });
        self.tris.push(Tri {
            v: [v(0), v(2), v(3)],
            mat,
        });
    }

    /// Axis-aligned box (all six faces; the renderer culls nothing, the z-buffer sorts it).
    pub fn cuboid(&mut self, lo: V3, hi: V3, mat: Mat) {
        let [x0, y0, z0] = lo;
        let [x1, y1, z1] = hi;
        self.quad(
            [[x0, y1, z1], [x1, y1, z1], [x1, y0, z1], [x0, y0, z1]],
            mat,
        ); // front
        self.quad(
            [[x0, y1, z0], [x1, y1, z0], [x1, y1, z1], [x0, y1, z1]],
            mat,
        ); // top
        self.quad(
            [[x0, y1, z0], [x0, y1, z1], [x0, y0, z1], [x0, y0, z0]],
            mat,
        ); // left
        self.quad(
            [[x1, y1, z1], [x1, y1, z0], [x1, y0, z0], [x1, y0, z1]],
            mat,
        ); // right
        self.quad(
            [[x1, y1, z0], [x0, y1, z0], [x0, y0, z0], [x1, y0, z0]],
            mat,
        ); // back
        self.quad(
            [[x0, y0, z1], [x1, y0, z1], [x1, y0, z0], [x0, y0, z0]],
            mat,
        ); // bottom
    }

    /// A wheel at (x, r, z): tyre tread cylinder around the x axis, half width `hw`, and on
    /// the outer side (`outer_sign`) a sidewall and a five-spoke alloy rim.
    pub fn wheel(&mut self, x: f32, z: f32, r: f32, hw: f32, outer_sign: f32) {
        let n = 20;
        let c = [x, r, z];
        let ring = |k: usize, dx: f32, rr: f32| {
            let a = k as f32 / n as f32 * std::f32::consts::TAU;
            let (s, co) = a.sin_cos();
            ([c[0] + dx, c[1] + rr * s, c[2] + rr * co], [0.0, s, co])
        };
        let side = outer_sign * hw;
        let sn = [outer_sign, 0.0, 0.0];
        for k in 0..n {
            let (a0, n0) = ring(k, -hw, r);
            let (b0, _) = ring(k, hw, r);
            let (a1, n1) = ring(k + 1, -hw, r);
            let (b1, _) = ring(k + 1, hw, r);
            self.quad_n([a0, b0, b1, a1], [n0, n0, n1, n1], Mat::Tyre);
            // Sidewall, rim lip, spokes (or the dark gaps between them), hub.
            let at = |rr: f32, d: f32| (ring(k, side * d, rr).0, ring(k + 1, side * d, rr).0);
            let (o0, o1) = at(r, 1.0);
            let (l0, l1) = at(r * 0.68, 1.0);
            let (s0, s1) = at(r * 0.6, 1.01);
            let (h0, h1) = at(r * 0.16, 1.03);
            self.quad_n([o0, o1, l1, l0], [sn; 4], Mat::Tyre);
            self.quad_n([l0, l1, s1, s0], [sn; 4], Mat::Chrome);
            let spoke = k % 4 < 2;
            let m = if spoke { Mat::Chrome } else { Mat::Plastic };
            self.quad_n([s0, s1, h1, h0], [sn; 4], m);
            let hub = [c[0] + side * 1.04, c[1], c[2]];
            self.quad_n([h0, h1, hub, hub], [sn; 4], Mat::Chrome);
        }
    }
}

/// Lofted surface through rows of points (`rows[i][j]`), with normals smoothed across
/// neighbouring quads whose normals differ by less than `crease` (cosine), and a material per
/// (row interval i, column interval j).
pub fn loft(mesh: &mut Mesh, rows: &[Vec<V3>], crease: f32, mat: impl Fn(usize, usize) -> Mat) {
    let ni = rows.len() - 1;
    let nj = rows[0].len() - 1;
    let qn = |i: usize, j: usize| {
        let (a, b, c, d) = (
            rows[i][j],
            rows[i][j + 1],
            rows[i + 1][j + 1],
            rows[i + 1][j],
        );
        norm(add(face_normal(a, b, c), face_normal(a, c, d)))
    };
    let normals: Vec<Vec<V3>> = (0..ni)
        .map(|i| (0..nj).map(|j| qn(i, j)).collect())
        .collect();
    for i in 0..ni {
        for j in 0..nj {
            let own = normals[i][j];
            // Degenerate quads (collapsed rows) contribute nothing.
            let corner = |ci: usize, cj: usize| {
                let mut acc = [0.0; 3];
                for di in [ci.wrapping_sub(1), ci] {
                    for dj in [cj.wrapping_sub(1), cj] {
                        if di < ni && dj < nj {
                            let m = normals[di][dj];
                            if dot(m, own) >= crease {
                                acc = add(acc, m);
                            }
                        }
                    }
                }
                norm(acc)
            };
            let q = [
                rows[i][j],
                rows[i][j + 1],
                rows[i + 1][j + 1],
                rows[i + 1][j],
            ];
            let n = [
                corner(i, j),
                corner(i, j + 1),
                corner(i + 1, j + 1),
                corner(i + 1, j),
            ];
            mesh.quad_n(q, n, mat(i, j));
        }
    }
}

/// Lighting and the paint colour of one vehicle.
pub struct Shader {
    pub body: [f32; 3],
    /// Lamps and the destination sign glow (dusk).
    pub lamps_on: bool,
    pub sun: V3,
    /// Light multiplier, neutral white (lamps that glow ignore it).
    pub light: f32,
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

impl Shader {
    /// Radiance arriving from direction `d` (unit): sky above, a dark tree/building line at
    /// the horizon, grey ground below.
    pub fn env(&self, d: V3) -> [f32; 3] {
        let y = d[1];
        // Trees and buildings along the road: a ragged skyline by azimuth (a cheap pseudo
        // angle and triangle waves: this runs for every pixel of every body sprite).
        let az = 1.6 * d[0] / (d[0].abs() + d[2].abs() + 1e-6);
        let tri = |x: f32| (x - x.floor() - 0.5).abs() * 4.0 - 1.0;
        let sky_line = 0.05
            + 0.16
                * (0.5
                    + 0.25 * tri(0.8 * az + 0.16)
                    + 0.15 * tri(2.07 * az + 0.32)
                    + 0.1 * tri(4.93 * az));
        if y > sky_line {
            let t = ((y - sky_line) / (1.0 - sky_line)).max(0.0).sqrt();
            mix([0.92, 0.94, 0.96], [0.55, 0.68, 0.88], t)
        } else if y > 0.0 {
            let k = 0.2 + 0.15 * (y / sky_line);
            [k * 0.9, k * 1.05, k * 0.85]
        } else {
            let k = 0.2 + 0.08 * (1.0 + y);
            [k, k, k * 1.02]
        }
    }

    /// Colour of a surface point under the camera's light; alpha is 1 except for the shadow.
    pub fn shade(&self, mat: Mat, p: V3, n: V3, v: V3, uv: [f32; 2]) -> ([f32; 3], f32) {
        let (c, a) = self.shade_raw(mat, p, n, v, uv);
        if self.lamps_on && matches!(mat, Mat::Lamp | Mat::Sign) {
            (c, a)
        } else {
            (c.map(|x| x * self.light), a)
        }
    }

    fn shade_raw(&self, mat: Mat, p: V3, n: V3, v: V3, uv: [f32; 2]) -> ([f32; 3], f32) {
        let ndv = dot(n, v).max(0.0);
        let r = sub(mul(n, 2.0 * dot(n, v)), v);
        let hemi = 0.5 + 0.5 * n[1];
        let sun_d = dot(n, self.sun).max(0.0);
        let diffuse = |c: [f32; 3]| c.map(|x| x * (0.55 * (0.35 + 0.65 * hemi) + 0.55 * sun_d));
        let spec_sun = dot(r, self.sun).max(0.0).powi(40) * 1.2;
        let fres = |f0: f32| f0 + (1.0 - f0) * (1.0 - ndv).powi(5);
        let clear = |base: [f32; 3], f0: f32, gloss: f32| {
            let f = fres(f0) * gloss;
            let e = self.env(r);
            let d = diffuse(base);
            [0, 1, 2].map(|i| d[i] * (1.0 - f) + e[i] * f + spec_sun * gloss)
        };
        match mat {
            Mat::Paint => {
                // Dark paint shows its clear coat most: the sky on the bonnet and roof is what
                // separates a black body from dark glass (measured: black cars found at 0.5
                // rose from 64% to 96%).
                let lum = 0.3 * self.body[0] + 0.59 * self.body[1] + 0.11 * self.body[2];
                (
                    clear(self.body, 0.12 + 0.35 * (1.0 - lum).powi(2), 1.0),
                    1.0,
                )
            }
            Mat::PaintDark(k) => (clear(self.body.map(|c| c * k), 0.05, 0.7), 1.0),
            Mat::Glass(y0, y1) => {
                // Height within the pane: 0 at the bottom, 1 at the top.
                let t = ((p[1] - y0) / (y1 - y0).max(1e-3)).clamp(0.0, 1.0);
                // Through the glass: a dark cabin (dashboard darkest at the bottom).
                let inside = 0.025 + 0.05 * t;
                // Reflections are stronger than a bare Fresnel term (dirt, polarisation,
                // the camera's angle to the sky) and fade towards the bottom of the pane.
                let f = (fres(0.08) + 0.1 + 0.3 * t * t).min(0.85);
                let e = self.env(r);
                let c = [0, 1, 2]
                    .map(|i| inside * [0.9, 1.0, 1.1][i] * (1.0 - f) + e[i] * f + spec_sun * 0.5);
                (c, 1.0)
            }
            Mat::Plastic => (clear([0.045, 0.047, 0.05], 0.03, 0.4), 1.0),
            Mat::Grille(bars) => {
                let t = (uv[1] * bars).fract();
                let bar = t < 0.38;
                let base = if bar {
                    [0.16, 0.16, 0.17]
                } else {
                    [0.02, 0.02, 0.025]
                };
                (clear(base, 0.04, if bar { 0.9 } else { 0.2 }), 1.0)
            }
            Mat::Lamp => {
                if self.lamps_on {
                    let glow = 1.0 - 0.3 * (uv[0] - 0.5).abs();
                    ([glow, glow, glow * 0.95], 1.0)
                } else {
                    // Chrome reflector with two projector bulbs.
                    let e = self.env(r);
                    let mut c = mix([0.55, 0.57, 0.6], e, 0.4);
                    for cx in [0.3f32, 0.7] {
                        let d = ((uv[0] - cx) * 2.2).powi(2) + ((uv[1] - 0.5) * 1.1).powi(2);
                        if d < 0.12 {
                            c = [0.2, 0.2, 0.22];
                        }
                        if d < 0.05 {
                            c = [0.85, 0.87, 0.9];
                        }
                    }
                    let edge = uv[1] < 0.12 || uv[1] > 0.88;
                    if edge {
                        c = [0.12, 0.12, 0.13];
                    }
                    (c.map(|x| x + spec_sun * 0.5), 1.0)
                }
            }
            Mat::Tyre => (diffuse([0.05, 0.05, 0.055]), 1.0),
            Mat::Chrome => {
                let e = self.env(r);
                (e.map(|x| x * 0.8 + 0.05), 1.0)
            }
            Mat::Solid(c) => (clear(c, 0.04, 0.5), 1.0),
            Mat::Sign => {
                let lit = ((uv[0] * 34.0).fract() < 0.55)
                    && ((uv[1] * 5.0).fract() < 0.6)
                    && ((uv[0] * 7.3).sin() * (uv[0] * 3.1 + 1.0).cos()).abs() > 0.15
                    && uv[1] > 0.2
                    && uv[1] < 0.8;
                if lit {
                    ([1.0, 0.55, 0.1], 1.0)
                } else {
                    ([0.03, 0.03, 0.03], 1.0)
                }
            }
            Mat::Shadow => {
                // Rounded-rectangle falloff: solid under the body, soft at the rim.
                let (x, y) = ((2.0 * uv[0] - 1.0).abs(), (2.0 * uv[1] - 1.0).abs());
                let d = (x.powi(4) + y.powi(4)).powf(0.25);
                let _ = p;
                let a = ((1.0 - d) / 0.35).clamp(0.0, 1.0);
                ([0.0; 3], 0.75 * a * a * (3.0 - 2.0 * a))
            }
        }
    }
}

/// A perspective camera: eye position, unit forward/right/up, focal length in pixels and the
/// image position of the optical axis.
pub struct Camera {
    pub eye: V3,
    pub fwd: V3,
    pub right: V3,
    pub up: V3,
    pub focal: f32,
    pub cx: f32,
    pub cy: f32,
}

impl Camera {
    /// Looking at `target` from `dist` away, pitched down by `pitch` radians and swung
    /// round the vertical by `yaw` (positive: the camera moves to +x, so the vehicle's +x side
    /// shows); `focal` px.
    pub fn looking_at(target: V3, pitch: f32, yaw: f32, dist: f32, focal: f32) -> Camera {
        let (s, c) = pitch.sin_cos();
        let (sy, cy) = yaw.sin_cos();
        let back = [c * sy, s, c * cy];
        let fwd = mul(back, -1.0);
        let right = [cy, 0.0, -sy];
        let up = cross(right, fwd);
        Camera {
            eye: add(target, mul(back, dist)),
            fwd,
            right,
            up,
            focal,
            cx: 0.0,
            cy: 0.0,
        }
    }

    /// Image position (x right, y down) and depth of a point.
    pub fn project(&self, p: V3) -> [f32; 3] {
        let d = sub(p, self.eye);
        let z = dot(d, self.fwd).max(1e-3);
        [
            self.cx + self.focal * dot(d, self.right) / z,
            self.cy - self.focal * dot(d, self.up) / z,
            z,
        ]
    }
}

/// RGBA float image.
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub rgba: Vec<[f32; 4]>,
    depth: Vec<f32>,
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            rgba: vec![[0.0; 4]; w * h],
            depth: vec![f32::INFINITY; w * h],
        }
    }

    /// Rasterises the mesh (shadow triangles never hide anything; the body overwrites them).
    pub fn draw(&mut self, mesh: &Mesh, cam: &Camera, shader: &Shader) {
        for t in &mesh.tris {
            let s = t.v.map(|v| cam.project(v.p));
            let minx = s
                .iter()
                .map(|p| p[0])
                .fold(f32::MAX, f32::min)
                .floor()
                .max(0.0) as usize;
            let maxx = (s
                .iter()
                .map(|p| p[0])
                .fold(f32::MIN, f32::max)
                .ceil()
                .max(0.0) as usize)
                .min(self.w);
            let miny = s
                .iter()
                .map(|p| p[1])
                .fold(f32::MAX, f32::min)
                .floor()
                .max(0.0) as usize;
            let maxy = (s
                .iter()
                .map(|p| p[1])
                .fold(f32::MIN, f32::max)
                .ceil()
                .max(0.0) as usize)
                .min(self.h);
            let area = (s[1][0] - s[0][0]) * (s[2][1] - s[0][1])
                - (s[2][0] - s[0][0]) * (s[1][1] - s[0][1]);
            if area.abs() < 1e-6 {
                continue;
            }
            let inv_area = 1.0 / area;
            let shadow = t.mat == Mat::Shadow;
            // Perspective-correct interpolation weights use 1/z.
            let iz = s.map(|p| 1.0 / p[2]);
            for y in miny..maxy {
                let py = y as f32 + 0.5;
                for x in minx..maxx {
                    let px = x as f32 + 0.5;
                    let e = |a: usize, b: usize| {
                        (s[b][0] - s[a][0]) * (py - s[a][1]) - (s[b][1] - s[a][1]) * (px - s[a][0])
                    };
                    let w0 = e(1, 2) * inv_area;
                    let w1 = e(2, 0) * inv_area;
                    let w2 = e(0, 1) * inv_area;
                    if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                        continue;
                    }
                    let (b0, b1, b2) = (w0 * iz[0], w1 * iz[1], w2 * iz[2]);
                    let zi = b0 + b1 + b2;
                    let depth = 1.0 / zi;
                    let i = y * self.w + x;
                    if shadow {
                        if self.rgba[i][3] >= 1.0 {
                            continue;
                        }
                    } else if depth >= self.depth[i] {
                        continue;
                    }
                    let (b0, b1, b2) = (b0 / zi, b1 / zi, b2 / zi);
                    let at = |f: &dyn Fn(&Vert) -> V3| {
                        add(
                            add(mul(f(&t.v[0]), b0), mul(f(&t.v[1]), b1)),
                            mul(f(&t.v[2]), b2),
                        )
                    };
                    let p = at(&|v| v.p);
                    let n = norm(at(&|v| v.n));
                    let uvv = at(&|v| [v.uv[0], v.uv[1], 0.0]);
                    let view = norm(sub(cam.eye, p));
                    // Normals facing away (back faces seen through gaps) are flipped.
                    let n = if dot(n, view) < 0.0 && !shadow {
                        mul(n, -1.0)
                    } else {
                        n
                    };
                    let (c, a) = shader.shade(t.mat, p, n, view, [uvv[0], uvv[1]]);
                    if shadow {
                        // Shadows accumulate (max) and keep the body's depth test free.
                        if a > self.rgba[i][3] {
                            self.rgba[i] = [0.0, 0.0, 0.0, a];
                        }
                    } else {
                        self.depth[i] = depth;
                        self.rgba[i] = [c[0], c[1], c[2], a];
                    }
                }
            }
        }
    }
}
