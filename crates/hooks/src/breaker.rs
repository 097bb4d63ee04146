//! A circuit breaker per endpoint: after `threshold` consecutive failures the endpoint gets no
//! traffic for a cool-down (doubling while it stays down, up to a cap); then one probe goes
//! out, and its success closes the circuit. Pure: the caller passes the time.
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until_ms: i64,
        cooldown_ms: i64,
    },
    /// The probe is out; nothing else is sent until it returns.
    HalfOpen {
        cooldown_ms: i64,
    },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    first_cooldown_ms: i64,
    max_cooldown_ms: i64,
    state: BreakerState,
}

/// What a result did to the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Opened,
    Closed,
}

impl Breaker {
    pub fn new(threshold: u32, first_cooldown: Duration, max_cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            first_cooldown_ms: first_cooldown.as_millis() as i64,
            max_cooldown_ms: max_cooldown.as_millis() as i64,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether one more delivery may start now; an open circuit past its cool-down lets this
    /// one through as the probe.
    pub fn try_acquire(&mut self, now_ms: i64) -> bool {
        match self.state {
            BreakerState::Closed { .. } => true,
            BreakerState::HalfOpen { .. } => false,
            BreakerState::Open {
                until_ms,
                cooldown_ms,
            } => {
                if now_ms >= until_ms {
                    self.state = BreakerState::HalfOpen { cooldown_ms };
                    true
                } else {
                    false
                }
            }
        }
    }

    pub fn on_success(&mut self) -> Transition {
        let was_closed = matches!(self.state, BreakerState::Closed { .. });
        self.state = BreakerState::Closed { failures: 0 };
        if was_closed {
            Transition::None
        } else {
            Transition::Closed
        }
    }

    pub fn on_failure(&mut self, now_ms: i64) -> Transition {
        match self.state {
            BreakerState::Closed { failures } => {
                let failures = failures + 1;
                if failures >= self.threshold {
                    self.open(now_ms, self.first_cooldown_ms);
                    Transition::Opened
                } else {
                    self.state = BreakerState::Closed { failures };
                    Transition::None
                }
            }
            BreakerState::HalfOpen { cooldown_ms } => {
                self.open(now_ms, (cooldown_ms * 2).min(self.max_cooldown_ms));
                Transition::Opened
            }
            // A delivery started before the circuit opened failed too: nothing new.
            BreakerState::Open { .. } => Transition::None,
        }
    }

    fn open(&mut self, now_ms: i64, cooldown_ms: i64) {
        self.state = BreakerState::Open {
            until_ms: now_ms + cooldown_ms,
            cooldown_ms,
        };
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, BreakerState::Closed { .. })
    }

    /// "closed", "open" or "half_open", for metrics and the API.
    pub fn label(&self) -> &'static str {
        match self.state {
            BreakerState::Closed { .. } => "closed",
            BreakerState::Open { .. } => "open",
            BreakerState::HalfOpen { .. } => "half_open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(3, Duration::from_secs(2), Duration::from_secs(8))
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let mut b = breaker();
        assert_eq!(b.on_failure(0), Transition::None);
        assert_eq!(b.on_failure(0), Transition::None);
        assert_eq!(b.on_success(), Transition::None);
        assert_eq!(b.on_failure(0), Transition::None);
        assert_eq!(b.on_failure(0), Transition::None);
        assert_eq!(b.on_failure(10), Transition::Opened);
        assert!(!b.try_acquire(11));
        assert!(!b.try_acquire(2_009));
    }

    #[test]
    fn one_probe_after_the_cooldown_and_its_result_decides() {
        let mut b = breaker();
        for _ in 0..3 {
            b.on_failure(0);
        }
        assert!(b.try_acquire(2_000), "the probe");
        assert!(!b.try_acquire(2_000), "only one probe");
        assert_eq!(b.on_failure(2_100), Transition::Opened);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: 6_100,
                cooldown_ms: 4_000
            }
        );
        assert!(b.try_acquire(6_100));
        b.on_failure(6_200);
        assert!(b.try_acquire(14_200));
        b.on_failure(14_300);
        // The cool-down stops doubling at the cap.
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: 22_300,
                cooldown_ms: 8_000
            }
        );
        assert!(b.try_acquire(22_300));
        assert_eq!(b.on_success(), Transition::Closed);
        assert!(b.try_acquire(22_301) && b.try_acquire(22_301));
    }
}
