use crate::DecodeError;

/// Which frames a decoder hands on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DecodeMode {
    /// Every decoded frame.
    All,
    /// Decode every frame, hand on only frames at least `1/n` s apart by PTS.
    SampleFps(f32),
    /// Decode only keyframes (IDR / random access points); the rest never reach the decoder.
    Keyframes,
}

impl DecodeMode {
    pub(crate) fn validate(self) -> Result<Self, DecodeError> {
        match self {
            DecodeMode::SampleFps(fps) if !(fps.is_finite() && fps > 0.0) => Err(
                DecodeError::InvalidArgument(format!("SampleFps needs a positive rate, got {fps}")),
            ),
            mode => Ok(mode),
        }
    }
}

/// 90 kHz ticks per second, the clock of RTP video and of `pts_90k`.
pub(crate) const TICKS_PER_SECOND: i64 = 90_000;

/// Decides which decoded frames to hand on, from their PTS alone, so the choice is reproducible.
#[derive(Debug)]
pub(crate) struct Sampler {
    min_spacing: Option<i64>,
    last_emitted: Option<i64>,
}

impl Sampler {
    pub(crate) fn new(mode: DecodeMode) -> Self {
        let min_spacing = match mode {
            // One tick of slack absorbs the rounding of ns timestamps to 90 kHz.
            DecodeMode::SampleFps(fps) => {
                Some(((TICKS_PER_SECOND as f64 / f64::from(fps)).round() as i64 - 1).max(0))
            }
            DecodeMode::All | DecodeMode::Keyframes => None,
        };
        Self {
            min_spacing,
            last_emitted: None,
        }
    }

    /// True when the frame with this PTS should be handed on.
    pub(crate) fn accept(&mut self, pts_90k: i64) -> bool {
        let Some(spacing) = self.min_spacing else {
            return true;
        };
        let emit = match self.last_emitted {
            None => true,
            // A PTS going backwards is a new timeline (e.g. a seek): start sampling afresh.
            Some(last) => pts_90k < last || pts_90k - last >= spacing,
        };
        if emit {
            self.last_emitted = Some(pts_90k);
        }
        emit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(mode: DecodeMode, pts: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut s = Sampler::new(mode);
        pts.into_iter().filter(|p| s.accept(*p)).collect()
    }

    #[test]
    fn all_and_keyframes_keep_everything() {
        let pts: Vec<i64> = (0..10).map(|i| i * 3600).collect();
        assert_eq!(kept(DecodeMode::All, pts.clone()), pts);
        assert_eq!(kept(DecodeMode::Keyframes, pts.clone()), pts);
    }

    #[test]
    fn samples_25fps_down_to_5fps() {
        let out = kept(DecodeMode::SampleFps(5.0), (0..50).map(|i| i * 3600));
        assert_eq!(out.len(), 10);
        assert!(out.windows(2).all(|w| w[1] - w[0] == 18_000));
    }

    #[test]
    fn ntsc_rate_keeps_every_third_frame_at_10fps() {
        let out = kept(DecodeMode::SampleFps(10.0), (0..30).map(|i| i * 3003));
        assert_eq!(out, (0..10).map(|i| i * 3 * 3003).collect::<Vec<_>>());
    }

    #[test]
    fn jittery_timestamps_still_respect_spacing() {
        let pts = [0, 3599, 7201, 10_799, 14_400, 18_001, 21_600];
        let out = kept(DecodeMode::SampleFps(12.5), pts);
        assert_eq!(out, vec![0, 7201, 14_400, 21_600]);
        assert!(out.windows(2).all(|w| w[1] - w[0] >= 7199));
    }

    #[test]
    fn higher_rate_than_source_keeps_all() {
        let pts: Vec<i64> = (0..10).map(|i| i * 3600).collect();
        assert_eq!(kept(DecodeMode::SampleFps(100.0), pts.clone()), pts);
    }

    #[test]
    fn backwards_pts_restarts_sampling() {
        let out = kept(
            DecodeMode::SampleFps(1.0),
            [0, 45_000, 90_000, 10, 20, 90_010],
        );
        assert_eq!(out, vec![0, 90_000, 10, 90_010]);
    }

    #[test]
    fn rejects_non_positive_rates() {
        assert!(DecodeMode::SampleFps(0.0).validate().is_err());
        assert!(DecodeMode::SampleFps(-1.0).validate().is_err());
        assert!(DecodeMode::SampleFps(f32::NAN).validate().is_err());
        assert!(DecodeMode::SampleFps(2.0).validate().is_ok());
    }
}
