use std::time::Duration;

use rand::Rng;

/// Capped exponential backoff with jitter between reconnection attempts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffPolicy {
    /// Delay before the first retry.
    pub initial: Duration,
    /// No delay exceeds this, jitter included.
    pub max: Duration,
    /// Growth factor per consecutive failure (>= 1).
    pub multiplier: f64,
    /// Relative jitter in [0, 1]: a delay `d` becomes uniform in `[d*(1-j), d*(1+j)]`, so many
    /// cameras behind one failed switch do not reconnect in lock-step.
    pub jitter: f64,
    /// A session that streamed at least this long resets the delay to `initial`.
    pub reset_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.2,
            reset_after: Duration::from_secs(30),
        }
    }
}

impl BackoffPolicy {
    /// Delay before retry number `attempt` (0-based), given `unit` uniform in [0, 1) for jitter.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let multiplier = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let max = self.max.as_secs_f64();
        let base = (self.initial.as_secs_f64() * multiplier.powi(attempt.min(64) as i32)).min(max);
        let factor = 1.0 - jitter + 2.0 * jitter * unit.clamp(0.0, 1.0);
        Duration::from_secs_f64((base * factor).clamp(0.0, max))
    }
}

/// Backoff state of one camera.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(policy: BackoffPolicy) -> Self {
        Self { policy, attempt: 0 }
    }

    /// Call when a session ends; `streamed` is how long it delivered frames.
    pub(crate) fn session_ended(&mut self, streamed: Duration) {
        if streamed >= self.policy.reset_after {
            self.attempt = 0;
        }
    }

    pub(crate) fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let delay = self.policy.delay(self.attempt, rng.gen::<f64>());
        self.attempt = self.attempt.saturating_add(1);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            multiplier: 2.0,
            jitter: 0.25,
            reset_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn grows_exponentially_without_jitter_at_midpoint() {
        let p = policy();
        let ms: Vec<u128> = (0..5).map(|a| p.delay(a, 0.5).as_millis()).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1600]);
    }

    #[test]
    fn is_capped_even_with_jitter() {
        let p = policy();
        for attempt in [5, 6, 20, 1000, u32::MAX] {
            for unit in [0.0, 0.5, 0.999_999] {
                assert!(p.delay(attempt, unit) <= p.max);
            }
        }
        assert_eq!(p.delay(30, 0.5), p.max);
        assert_eq!(p.delay(30, 0.0), Duration::from_millis(1500));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..2000 {
            let d = p.delay(2, rng.gen::<f64>()).as_secs_f64();
            assert!((0.3 - 1e-9..=0.5 + 1e-9).contains(&d), "{d}");
            seen_low |= d < 0.33;
            seen_high |= d > 0.47;
        }
        assert!(seen_low && seen_high, "jitter should spread over the range");
    }

    #[test]
    fn resets_only_after_a_long_enough_session() {
        let mut b = Backoff::new(BackoffPolicy {
            jitter: 0.0,
            ..policy()
        });
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(b.next_delay(&mut rng), Duration::from_millis(100));
        assert_eq!(b.next_delay(&mut rng), Duration::from_millis(200));
        b.session_ended(Duration::from_secs(1));
        assert_eq!(b.next_delay(&mut rng), Duration::from_millis(400));
        b.session_ended(Duration::from_secs(10));
        assert_eq!(b.next_delay(&mut rng), Duration::from_millis(100));
    }

    #[test]
    fn silly_values_do_not_panic() {
        let p = BackoffPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(5),
            multiplier: f64::NAN,
            jitter: 7.0,
            reset_after: Duration::ZERO,
        };
        assert!(p.delay(3, 0.9) <= Duration::from_secs(5));
    }
}
