//! When to try a failed delivery again: exponential backoff with full jitter, capped, until
//! the delivery is older than the maximum age, after which it is a dead letter.
use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay after the first failure (before jitter).
    pub base: Duration,
    /// Longest delay between two attempts.
    pub cap: Duration,
    /// A delivery still failing this long after its event was stored is dead.
    pub max_age: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(600),
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

impl Backoff {
    /// The next attempt time (Unix ms) after failure number `attempts` (1 for the first) at
    /// `now_ms`, or None when the delivery has run out of time. `retry_after` (a receiver's
    /// Retry-After) is honoured, within the cap. `unit` in [0, 1) picks the jitter.
    pub fn next_attempt(
        &self,
        attempts: u32,
        created_ms: i64,
        now_ms: i64,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<i64> {
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(attempts.saturating_sub(1).min(31))
                    .unwrap_or(u32::MAX),
            )
            .min(self.cap);
        // Full jitter over [exp/2, exp): spreads a fleet's retries after a shared outage.
        let jittered = exp.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0));
        let delay = retry_after.map_or(jittered, |r| r.min(self.cap).max(jittered));
        let next = now_ms.saturating_add(delay.as_millis() as i64);
        let deadline = created_ms.saturating_add(self.max_age.as_millis() as i64);
        (now_ms < deadline).then(|| next.min(deadline))
    }

    /// [`Backoff::next_attempt`] with a random jitter.
    pub fn next_attempt_now(
        &self,
        attempts: u32,
        created_ms: i64,
        now_ms: i64,
        retry_after: Option<Duration>,
    ) -> Option<i64> {
        let unit = rand::thread_rng().gen::<f64>();
        self.next_attempt(attempts, created_ms, now_ms, retry_after, unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_and_stop_at_the_cap() {
        let b = Backoff::default();
        let delay =
            |attempts, unit| b.next_attempt(attempts, 0, 1_000, None, unit).unwrap() - 1_000;
        assert_eq!(delay(1, 0.0), 500);
        assert_eq!(delay(1, 0.999_999), 999);
        assert_eq!(delay(2, 0.0), 1_000);
        assert_eq!(delay(5, 0.0), 8_000);
        assert_eq!(delay(40, 0.0), 300_000);
        assert!(delay(40, 0.99) < 600_000);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let b = Backoff::default();
        let at = |r| b.next_attempt(1, 0, 0, Some(r), 0.0).unwrap();
        assert_eq!(at(Duration::from_secs(30)), 30_000);
        assert_eq!(at(Duration::from_secs(10_000)), 600_000);
        assert_eq!(at(Duration::ZERO), 500);
    }

    #[test]
    fn a_delivery_past_its_maximum_age_is_dead_and_the_last_try_lands_on_the_deadline() {
        let b = Backoff {
            max_age: Duration::from_secs(60),
            ..Backoff::default()
        };
        assert_eq!(b.next_attempt(1, 0, 60_000, None, 0.5), None);
        assert_eq!(b.next_attempt(9, 0, 59_000, None, 0.5), Some(60_000));
    }
}
