//! Per-endpoint delivery figures kept by this process's dispatcher: attempts by outcome,
//! end-to-end latency (event stored -> receiver acknowledged) and the circuit state. Counts of
//! what is waiting come from the outbox itself ([`xl_store::Store::outbox_counts`]).
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use xl_store::OutboxCounts;

/// Upper bounds of the latency buckets, in milliseconds.
const BUCKETS_MS: [u64; 16] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000,
    86_400_000,
];

#[derive(Default)]
pub struct EndpointStats {
    delivered: AtomicU64,
    failed: AtomicU64,
    dead: AtomicU64,
    withheld: AtomicU64,
    in_flight: AtomicU64,
    latency: Mutex<Latency>,
    circuit: Mutex<&'static str>,
}

#[derive(Default)]
struct Latency {
    /// One count per bucket plus one for longer.
    counts: [u64; BUCKETS_MS.len() + 1],
    sum_ms: u64,
}

impl EndpointStats {
    pub(crate) fn delivered(&self, latency_ms: i64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let ms = latency_ms.max(0) as u64;
        let bucket = BUCKETS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BUCKETS_MS.len());
        let mut l = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        l.counts[bucket] += 1;
        l.sum_ms += ms;
    }

    pub(crate) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dead(&self) {
        self.dead.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn withheld(&self) {
        self.withheld.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_in_flight(&self, n: usize) {
        self.in_flight.store(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn set_circuit(&self, label: &'static str) {
        *self.circuit.lock().unwrap_or_else(|e| e.into_inner()) = label;
    }

    pub fn snapshot(&self) -> EndpointSnapshot {
        let l = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let total: u64 = l.counts.iter().sum();
        let quantile = |q: f64| -> Option<u64> {
            if total == 0 {
                return None;
            }
            let rank = ((total as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in l.counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return Some(BUCKETS_MS.get(i).copied().unwrap_or(u64::MAX));
                }
            }
            None
        };
        EndpointSnapshot {
            delivered: self.delivered.load(Ordering::Relaxed),
            failed_attempts: self.failed.load(Ordering::Relaxed),
            dead: self.dead.load(Ordering::Relaxed),
            withheld: self.withheld.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            latency_p50_ms_at_most: quantile(0.5),
            latency_p99_ms_at_most: quantile(0.99),
            circuit: match *self.circuit.lock().unwrap_or_else(|e| e.into_inner()) {
                "" => "closed",
                other => other,
            },
        }
    }
}

/// What this process has done for one endpoint since it started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointSnapshot {
    pub delivered: u64,
    pub failed_attempts: u64,
    pub dead: u64,
    pub withheld: u64,
    pub in_flight: u64,
    /// Upper bound of the latency bucket holding the median (None before any delivery).
    pub latency_p50_ms_at_most: Option<u64>,
    pub latency_p99_ms_at_most: Option<u64>,
    pub circuit: &'static str,
}

/// Every endpoint's figures, shared by the dispatcher, the API and /metrics.
#[derive(Default)]
pub struct HookStats {
    endpoints: Mutex<BTreeMap<String, Arc<EndpointStats>>>,
    /// Outbox rows by state per subscription, as last read from the store by the dispatcher.
    outbox: Mutex<Vec<(String, OutboxCounts)>>,
}

impl HookStats {
    pub fn endpoint(&self, subscription: &str) -> Arc<EndpointStats> {
        self.endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(subscription.to_string())
            .or_default()
            .clone()
    }

    pub fn snapshot(&self, subscription: &str) -> Option<EndpointSnapshot> {
        let map = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        map.get(subscription).map(|s| s.snapshot())
    }

    pub(crate) fn set_outbox(&self, counts: Vec<(String, OutboxCounts)>) {
        *self.outbox.lock().unwrap_or_else(|e| e.into_inner()) = counts;
    }

    /// The Prometheus text for every endpoint this process delivers to.
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP xl_hook_outbox Outbox rows by subscription and state (retrying: failed at least once).\n# TYPE xl_hook_outbox gauge\n");
        for (id, c) in self.outbox.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            for (state, n) in [
                ("pending", c.pending),
                ("retrying", c.retrying),
                ("dead", c.dead),
            ] {
                let _ = writeln!(
                    out,
                    "xl_hook_outbox{{subscription=\"{id}\",state=\"{state}\"}} {n}"
                );
            }
        }
        let map: Vec<(String, Arc<EndpointStats>)> = self
            .endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push_str("# HELP xl_hook_deliveries_total Delivery attempts by subscription and outcome.\n# TYPE xl_hook_deliveries_total counter\n");
        for (id, s) in &map {
            let snap = s.snapshot();
            for (outcome, n) in [
                ("delivered", snap.delivered),
                ("failed", snap.failed_attempts),
                ("dead", snap.dead),
                ("withheld", snap.withheld),
            ] {
                let _ = writeln!(
                    out,
                    "xl_hook_deliveries_total{{subscription=\"{id}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP xl_hook_in_flight Deliveries in flight by subscription.\n# TYPE xl_hook_in_flight gauge\n");
        for (id, s) in &map {
            let _ = writeln!(
                out,
                "xl_hook_in_flight{{subscription=\"{id}\"}} {}",
                s.in_flight.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP xl_hook_circuit_open Whether the subscription's circuit breaker is open (1) or half open (0.5).\n# TYPE xl_hook_circuit_open gauge\n");
        for (id, s) in &map {
            let v = match s.snapshot().circuit {
                "open" => "1",
                "half_open" => "0.5",
                _ => "0",
            };
            let _ = writeln!(out, "xl_hook_circuit_open{{subscription=\"{id}\"}} {v}");
        }
        out.push_str("# HELP xl_hook_latency_seconds Time from an event being stored to its receiver acknowledging it.\n# TYPE xl_hook_latency_seconds histogram\n");
        for (id, s) in &map {
            let l = s.latency.lock().unwrap_or_else(|e| e.into_inner());
            let mut cumulative = 0;
            for (i, bound) in BUCKETS_MS.iter().enumerate() {
                cumulative += l.counts[i];
                let _ = writeln!(out, "xl_hook_latency_seconds_bucket{{subscription=\"{id}\",le=\"{}\"}} {cumulative}", *bound as f64 / 1000.0);
            }
            cumulative += l.counts[BUCKETS_MS.len()];
            let _ = writeln!(
                out,
                "xl_hook_latency_seconds_bucket{{subscription=\"{id}\",le=\"+Inf\"}} {cumulative}"
            );
            let _ = writeln!(
                out,
                "xl_hook_latency_seconds_sum{{subscription=\"{id}\"}} {:.3}",
                l.sum_ms as f64 / 1000.0
            );
            let _ = writeln!(
                out,
                "xl_hook_latency_seconds_count{{subscription=\"{id}\"}} {cumulative}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_latency_buckets() {
        let s = EndpointStats::default();
        assert_eq!(s.snapshot().latency_p50_ms_at_most, None);
        for ms in [3, 4, 8, 40, 40, 40, 40, 40, 40, 2_000] {
            s.delivered(ms);
        }
        let snap = s.snapshot();
        assert_eq!(snap.delivered, 10);
        assert_eq!(snap.latency_p50_ms_at_most, Some(50));
        assert_eq!(snap.latency_p99_ms_at_most, Some(2_500));
        let stats = HookStats::default();
        stats.endpoint("hk_1").delivered(7);
        stats.set_outbox(vec![(
            "hk_1".into(),
            OutboxCounts {
                retrying: 3,
                ..OutboxCounts::default()
            },
        )]);
        let mut text = String::new();
        stats.render(&mut text);
        assert!(text
            .contains("xl_hook_deliveries_total{subscription=\"hk_1\",outcome=\"delivered\"} 1"));
        assert!(
            text.contains("xl_hook_latency_seconds_bucket{subscription=\"hk_1\",le=\"0.01\"} 1")
        );
    }
}
