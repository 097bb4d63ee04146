//! The wall-clock timeline shared by every camera: frame k is shown at T0 + k/fps.
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};

#[derive(Clone, Debug)]
pub struct Timeline {
    pub t0: Instant,
    pub t0_wall: DateTime<FixedOffset>,
    pub fps: u32,
}

impl Timeline {
    pub fn instant_of(&self, frame: u64) -> Instant {
        self.t0 + Duration::from_nanos((frame as u128 * 1_000_000_000 / self.fps as u128) as u64)
    }

    /// Index of the frame on display at `now` (0 before T0).
    pub fn frame_at(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.t0);
        (since.as_nanos() * self.fps as u128 / 1_000_000_000) as u64
    }

    /// First frame after `now` whose clip position is a keyframe (every `gop` frames).
    pub fn next_keyframe(&self, now: Instant, gop: u64) -> u64 {
        let k = if now < self.t0 {
            0
        } else {
            self.frame_at(now) + 1
        };
        k.div_ceil(gop) * gop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_are_aligned_to_the_gop() {
        let tl = Timeline {
            t0: Instant::now(),
            t0_wall: chrono::Utc::now().fixed_offset(),
            fps: 25,
        };
        assert_eq!(tl.next_keyframe(tl.t0 - Duration::from_millis(5), 25), 0);
        assert_eq!(tl.next_keyframe(tl.t0, 25), 25);
        assert_eq!(tl.next_keyframe(tl.instant_of(24), 25), 25);
        assert_eq!(tl.next_keyframe(tl.instant_of(25), 25), 50);
        assert_eq!(tl.frame_at(tl.instant_of(77)), 77);
    }
}
