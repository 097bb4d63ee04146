//! RetinaFace-style prior (anchor) boxes of the plate detector, in normalised coordinates.

/// Feature-map strides and the anchor sizes (pixels) of each.
const STEPS: [(u32, [f32; 2]); 3] = [(8, [24.0, 48.0]), (16, [96.0, 192.0]), (32, [384.0, 768.0])];

/// A prior box: centre and size, normalised by the input width/height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
}

/// Priors for an input of `width` x `height`, in the order the detector emits its rows:
/// stride, then row, then column, then anchor size.
pub fn priors(width: u32, height: u32) -> Vec<Prior> {
    let (fw, fh) = (width as f32, height as f32);
    let mut out = Vec::with_capacity(prior_count(width, height));
    for (step, sizes) in STEPS {
        let rows = height.div_ceil(step);
        let cols = width.div_ceil(step);
        for i in 0..rows {
            for j in 0..cols {
                for m in sizes {
                    out.push(Prior {
                        cx: (j as f32 + 0.5) * step as f32 / fw,
                        cy: (i as f32 + 0.5) * step as f32 / fh,
                        w: m / fw,
                        h: m / fh,
                    });
                }
            }
        }
    }
    out
}

/// Number of priors (detector output rows) for an input size.
pub fn prior_count(width: u32, height: u32) -> usize {
    STEPS
        .iter()
        .map(|(s, sizes)| (height.div_ceil(*s) * width.div_ceil(*s)) as usize * sizes.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_matches_ceil_grids() {
        // 720x1160 (CCPD): 90x145 + 45x73 + 23x37 cells, two anchors each.
        assert_eq!(prior_count(720, 1160), 2 * (90 * 145 + 45 * 73 + 23 * 37));
        assert_eq!(priors(720, 1160).len(), prior_count(720, 1160));
    }

    #[test]
    fn first_and_last_priors_follow_the_layout() {
        let p = priors(64, 32);
        assert_eq!(
            p[0],
            Prior {
                cx: 4.0 / 64.0,
                cy: 4.0 / 32.0,
                w: 24.0 / 64.0,
                h: 24.0 / 32.0
            }
        );
        assert_eq!(p[1].w, 48.0 / 64.0);
        // Stride 32 grid is 1x2; its last cell centre is (48, 16).
        let last = *p.last().unwrap();
        assert_eq!(
            last,
            Prior {
                cx: 48.0 / 64.0,
                cy: 16.0 / 32.0,
                w: 768.0 / 64.0,
                h: 768.0 / 32.0
            }
        );
    }
}
