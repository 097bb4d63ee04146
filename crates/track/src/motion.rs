//! Predicting where a vehicle's box will be at a given time from the boxes matched so far.
//!
//! The state is the box centre and the logarithm of its width and height, each with a rate per
//! second, corrected by a fixed-gain alpha-beta filter. Why this and not ByteTrack's Kalman filter:
//! - Tracks here are short (5-30 matches at ~5 analysed frames per second), so a Kalman filter's
//!   covariance never settles and its gains are set by process/measurement noise values that
//!   nobody has measured for our detector; two fixed gains do the same job and can be reasoned
//!   about directly. The fast start a Kalman filter gets from a large initial velocity variance
//!   comes here from taking the rate straight from the first two boxes.
//! - Log size: a vehicle approaching the camera grows by a roughly constant *factor* per frame, so
//!   a constant rate of ln(size) fits it, scales the same for near and far vehicles, and can never
//!   predict a negative or zero size however long a track goes unmatched.
//! - Time is the elapsed seconds, not a frame count, because analysed frames are unevenly spaced
//!   (drops, decoder stalls); the rate correction divides by the elapsed time for the same reason.
use xl_schema::BBox;

/// Share of the prediction error taken into the position/size: boxes from the detector are good to
/// a few per cent, so the measurement is trusted much more than the extrapolation.
const ALPHA: f32 = 0.85;
/// Share of the prediction error (per second elapsed) taken into the rates: high, because a vehicle
/// approaching the camera speeds up in the image and a low gain would lag behind it.
const BETA: f32 = 0.5;
/// Bound on the rate of ln(size) per second (≈ ln 3: at most threefold per second, 25% per frame at
/// 5 fps), so one bad box cannot make a lost track's predicted box balloon or vanish.
const MAX_LOG_SIZE_RATE: f32 = 1.1;
/// Box sides below this (pixels) are taken as this, so a degenerate box cannot give ln(0).
const MIN_SIDE: f32 = 1.0;

#[derive(Debug, Clone)]
pub(crate) struct BoxMotion {
    /// `[cx, cy, ln w, ln h]` as of `time`.
    state: [f32; 4],
    /// Rates of `state` per second.
    rate: [f32; 4],
    time: f64,
    updates: u32,
}

impl BoxMotion {
    pub(crate) fn new(time: f64, bbox: &BBox) -> Self {
        Self {
            state: to_state(bbox),
            rate: [0.0; 4],
            time,
            updates: 0,
        }
    }

    /// The box expected at `time` (no earlier than the last update) if the rates hold.
    pub(crate) fn predict(&self, time: f64) -> BBox {
        let dt = (time - self.time).max(0.0) as f32;
        let s = self.extrapolate(dt);
        to_box(&s)
    }

    /// Corrects the state with the box matched at `time`.
    pub(crate) fn update(&mut self, time: f64, bbox: &BBox) {
        let measured = to_state(bbox);
        let dt = (time - self.time) as f32;
        if dt <= 0.0 {
            // Same instant (or out of order): nothing to learn about rates; just move toward it.
            for (s, m) in self.state.iter_mut().zip(measured) {
                *s += ALPHA * (m - *s);
            }
            return;
        }
        if self.updates == 0 {
            // Second box: the rate is simply the change from the first.
            self.rate = std::array::from_fn(|i| (measured[i] - self.state[i]) / dt);
            self.state = measured;
        } else {
            let predicted = self.extrapolate(dt);
            for i in 0..4 {
                let error = measured[i] - predicted[i];
                self.state[i] = predicted[i] + ALPHA * error;
                self.rate[i] += BETA * error / dt;
            }
        }
        for r in &mut self.rate[2..] {
            *r = r.clamp(-MAX_LOG_SIZE_RATE, MAX_LOG_SIZE_RATE);
        }
        self.time = time;
        self.updates += 1;
    }

    fn extrapolate(&self, dt: f32) -> [f32; 4] {
        std::array::from_fn(|i| self.state[i] + self.rate[i] * dt)
    }
}

fn to_state(b: &BBox) -> [f32; 4] {
    let (cx, cy) = b.center();
    [
        cx,
        cy,
        b.width().max(MIN_SIDE).ln(),
        b.height().max(MIN_SIDE).ln(),
    ]
}

fn to_box(s: &[f32; 4]) -> BBox {
    let (hw, hh) = (s[2].exp() / 2.0, s[3].exp() / 2.0);
    BBox::new(s[0] - hw, s[1] - hh, s[0] + hw, s[1] + hh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centred(cx: f32, cy: f32, w: f32, h: f32) -> BBox {
        BBox::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    fn assert_close(a: &BBox, b: &BBox) {
        let d = [a.x1 - b.x1, a.y1 - b.y1, a.x2 - b.x2, a.y2 - b.y2];
        assert!(d.iter().all(|d| d.abs() < 0.5), "{a:?} vs {b:?}");
    }

    #[test]
    fn a_vehicle_moving_and_growing_steadily_is_predicted_exactly_after_two_boxes() {
        // 600 px/s down, 10% larger every 0.2 s.
        let at = |t: f32| {
            let g = 1.1f32.powf(t / 0.2);
            centred(500.0, 200.0 + 600.0 * t, 200.0 * g, 150.0 * g)
        };
        let mut m = BoxMotion::new(0.0, &at(0.0));
        m.update(0.2, &at(0.2));
        assert_close(&m.predict(0.4), &at(0.4));
        // Unevenly spaced frames and a long extrapolation (a lost track) still land on it.
        m.update(0.3, &at(0.3));
        m.update(0.7, &at(0.7));
        assert_close(&m.predict(1.5), &at(1.5));
    }

    #[test]
    fn without_a_second_box_the_prediction_stays_put() {
        let b = centred(100.0, 100.0, 80.0, 60.0);
        let m = BoxMotion::new(3.0, &b);
        assert_close(&m.predict(3.4), &b);
        assert_close(&m.predict(2.0), &b);
    }

    #[test]
    fn a_collapsing_box_never_predicts_a_negative_size() {
        let mut m = BoxMotion::new(0.0, &centred(100.0, 100.0, 200.0, 200.0));
        m.update(0.2, &centred(100.0, 100.0, 20.0, 20.0));
        let p = m.predict(10.0);
        assert!(p.width() > 0.0 && p.height() > 0.0, "{p:?}");
        // The size rate is bounded: a tenfold shrink in one frame is not extrapolated as such.
        let p = m.predict(0.4);
        assert!(p.width() > 20.0 / 1.3, "{p:?}");
    }
}
