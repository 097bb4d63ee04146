//! Prometheus metrics in the text exposition format: request counts and latency per endpoint
//! and status, open live streams, audit records, WIM intake. Counts only, never event data.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::endpoints::Endpoint;
use crate::server::WimCountersView;

/// (method, route, status)
type RequestKey = (&'static str, &'static str, u16);

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) -> (count, seconds total).
    requests: Mutex<BTreeMap<RequestKey, (u64, f64)>>,
    live_streams: AtomicI64,
}

impl Metrics {
    pub(crate) fn observe(&self, endpoint: &'static Endpoint, status: u16, took: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let entry = requests
            .entry((endpoint.method, endpoint.path, status))
            .or_default();
        entry.0 += 1;
        entry.1 += took.as_secs_f64();
    }

    pub(crate) fn live_opened(&self) {
        self.live_streams.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn live_closed(&self) {
        self.live_streams.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn render(&self, audit_written: u64, wim: &WimCountersView) -> String {
        let mut out = String::new();
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP xl_http_requests_total API requests by route and status.\n# TYPE xl_http_requests_total counter\n");
        for ((method, route, status), (count, _)) in requests.iter() {
            let _ = writeln!(out, "xl_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}");
        }
        out.push_str("# HELP xl_http_request_seconds_sum Time spent answering, by route and status.\n# TYPE xl_http_request_seconds_sum counter\n");
        for ((method, route, status), (_, secs)) in requests.iter() {
            let _ = writeln!(out, "xl_http_request_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {secs:.6}");
        }
        let _ = writeln!(out, "# HELP xl_live_streams Open live event streams.\n# TYPE xl_live_streams gauge\nxl_live_streams {}", self.live_streams.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP xl_audit_records_written_total Audit records stored by this server.\n# TYPE xl_audit_records_written_total counter\nxl_audit_records_written_total {audit_written}");
        out.push_str("# HELP xl_wim_records_total Weigh-in-motion records by outcome.\n# TYPE xl_wim_records_total counter\n");
        for (outcome, n) in [
            ("accepted", wim.accepted),
            ("duplicate", wim.duplicates),
            ("malformed", wim.malformed),
            ("unknown_station", wim.unknown_station),
            ("invalid", wim.invalid),
        ] {
            let _ = writeln!(out, "xl_wim_records_total{{outcome=\"{outcome}\"}} {n}");
        }
        out
    }
}
