//! Side table for the live decoder: GStreamer carries only a PTS through the pipeline, so the
//! wall-clock time and arrival index of each access unit are kept here, keyed by the PTS the
//! decoder sees, and looked up again when the decoded frame comes out.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::mode::TICKS_PER_SECOND;

/// Keeps every PTS handed to GStreamer positive even when B-frames precede the first keyframe.
const BASE_TICKS: i64 = 10 * TICKS_PER_SECOND;
/// A PTS going back further than this is a new RTSP session, not B-frame reordering.
const RESTART_THRESHOLD_TICKS: i64 = TICKS_PER_SECOND;
/// Gap inserted between the end of one session's timeline and the start of the next.
const RESTART_GAP_TICKS: i64 = 3600;
/// Entries the decoder never returned (corrupt, skipped) must not accumulate forever.
const MAX_PENDING: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pending {
    pub(crate) pipeline_pts: i64,
    pub(crate) pts_90k: i64,
    pub(crate) wall_time: SystemTime,
    pub(crate) frame_index: u64,
}

#[derive(Debug, Default)]
pub(crate) struct LiveTimeline {
    offset: i64,
    last_input: Option<i64>,
    max_pipeline_pts: Option<i64>,
    next_index: u64,
    pending: VecDeque<Pending>,
}

impl LiveTimeline {
    /// Registers an arriving access unit (forwarded or not) and returns its pipeline PTS and
    /// arrival index. Pipeline PTS stay monotonic across session restarts so the decoder never
    /// sees time jump backwards.
    pub(crate) fn arrive(&mut self, pts_90k: i64, wall_time: SystemTime) -> Pending {
        match self.last_input {
            None => self.offset = BASE_TICKS - pts_90k.min(0),
            Some(last) if pts_90k < last - RESTART_THRESHOLD_TICKS => {
                let max = self.max_pipeline_pts.unwrap_or(BASE_TICKS);
                self.offset = max + RESTART_GAP_TICKS - pts_90k;
            }
            Some(_) => {}
        }
        self.last_input = Some(pts_90k);
        let pipeline_pts = (pts_90k + self.offset).max(0);
        self.max_pipeline_pts = Some(
            self.max_pipeline_pts
                .map_or(pipeline_pts, |m| m.max(pipeline_pts)),
        );
        let frame_index = self.next_index;
        self.next_index += 1;
        Pending {
            pipeline_pts,
            pts_90k,
            wall_time,
            frame_index,
        }
    }

    /// Remembers an access unit that was handed to the decoder.
    pub(crate) fn forwarded(&mut self, entry: Pending) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(entry);
    }

    /// Finds the access unit a decoded frame came from. Entries older than it are forgotten:
    /// frames leave the decoder in PTS order, so those were dropped by the decoder.
    pub(crate) fn resolve(&mut self, pipeline_pts: i64) -> Option<Pending> {
        let pos = self
            .pending
            .iter()
            .position(|p| p.pipeline_pts == pipeline_pts)?;
        let found = self.pending.remove(pos);
        self.pending.retain(|p| p.pipeline_pts > pipeline_pts);
        found
    }

    /// Forgets everything in flight (the decoder was restarted).
    pub(crate) fn clear_pending(&mut self) {
        self.pending.clear();
    }

    #[cfg(test)]
    fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

/// 90 kHz ticks to nanoseconds.
pub(crate) fn ticks_to_ns(ticks: i64) -> u64 {
    (i128::from(ticks.max(0)) * 100_000 / 9) as u64
}

/// Nanoseconds to 90 kHz ticks, rounded to nearest.
pub(crate) fn ns_to_ticks(ns: u64) -> i64 {
    ((u128::from(ns) * 9 + 50_000) / 100_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn wall(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn tick_conversions_round_trip() {
        for ticks in [0, 1, 3600, 3003, 90_000, 123_456_789] {
            assert_eq!(ns_to_ticks(ticks_to_ns(ticks)), ticks);
        }
        assert_eq!(ticks_to_ns(90_000), 1_000_000_000);
        assert_eq!(ns_to_ticks(40_000_000), 3600);
    }

    #[test]
    fn resolves_wall_time_and_index_by_pts() {
        let mut t = LiveTimeline::default();
        let a = t.arrive(0, wall(1000));
        let b = t.arrive(3600, wall(1040));
        t.forwarded(a);
        t.forwarded(b);
        let got = t.resolve(b.pipeline_pts).unwrap();
        assert_eq!(got.pts_90k, 3600);
        assert_eq!(got.wall_time, wall(1040));
        assert_eq!(got.frame_index, 1);
        assert_eq!(t.pending_len(), 0, "older entry was dropped by the decoder");
        assert_eq!(t.resolve(a.pipeline_pts), None);
    }

    #[test]
    fn b_frame_reordering_is_not_a_restart() {
        let mut t = LiveTimeline::default();
        let i = t.arrive(0, wall(0));
        let p = t.arrive(7200, wall(40));
        let b = t.arrive(3600, wall(80));
        assert_eq!(p.pipeline_pts - i.pipeline_pts, 7200);
        assert_eq!(b.pipeline_pts - i.pipeline_pts, 3600);
        for e in [i, p, b] {
            t.forwarded(e);
        }
        // Output order is PTS order: I, B, P.
        assert_eq!(t.resolve(i.pipeline_pts).unwrap().frame_index, 0);
        assert_eq!(t.resolve(b.pipeline_pts).unwrap().frame_index, 2);
        assert_eq!(t.resolve(p.pipeline_pts).unwrap().frame_index, 1);
    }

    #[test]
    fn new_session_keeps_pipeline_pts_monotonic() {
        let mut t = LiveTimeline::default();
        let mut last = 0;
        for i in 0..100 {
            last = t.arrive(i * 3600, wall(0)).pipeline_pts;
        }
        let restarted = t.arrive(0, wall(5000));
        assert!(restarted.pipeline_pts > last);
        assert_eq!(restarted.pts_90k, 0);
        let next = t.arrive(3600, wall(5040));
        assert_eq!(next.pipeline_pts - restarted.pipeline_pts, 3600);
    }

    #[test]
    fn negative_first_pts_stays_positive() {
        let mut t = LiveTimeline::default();
        let e = t.arrive(-7200, wall(0));
        assert!(e.pipeline_pts > 0);
    }

    #[test]
    fn pending_is_bounded() {
        let mut t = LiveTimeline::default();
        for i in 0..(MAX_PENDING as i64 + 50) {
            let e = t.arrive(i * 3600, wall(0));
            t.forwarded(e);
        }
        assert_eq!(t.pending_len(), MAX_PENDING);
        t.clear_pending();
        assert_eq!(t.pending_len(), 0);
    }
}
