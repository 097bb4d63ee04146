//! Scoring events against the simulator's ground truth. Plate reads: the acceptance figures
//! of the live pipeline: pass recall with the exact text, share of events whose text is in no
//! pass's truth, and share of passes reported more than once. Rules: precision and recall per
//! rule (see `rules`).
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod rules;

pub use rules::{parse_rule_truth, score_rules, RuleScore, RuleTruth};

use chrono::{DateTime, Duration, FixedOffset};
use serde::Deserialize;
use xl_schema::plate::{fits_plate, is_partial_plate, plates_match};
use xl_schema::{Event, EventKind};

/// One vehicle pass as the simulator wrote it (the fields scoring needs).
#[derive(Debug, Clone, Deserialize)]
pub struct TruthPass {
    /// Mount index i of rtsp://.../cam/<i>.
    pub camera: u32,
    pub plate: String,
    pub visible_from: DateTime<FixedOffset>,
    pub visible_to: DateTime<FixedOffset>,
}

/// Parses the simulator's JSONL, ignoring blank lines.
pub fn parse_truth(jsonl: &str) -> Result<Vec<TruthPass>, serde_json::Error> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

#[derive(Debug, Clone)]
pub struct ScoreParams {
    /// Only passes entirely inside [from, to] are scored (the pipeline's connected window).
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// Events may be stamped this much before a pass starts or after it ends (tracking delay,
    /// frame timing) and still belong to it.
    pub slack: Duration,
    /// Camera id of mount index i.
    pub camera_id: fn(u32) -> String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    pub passes: usize,
    /// Passes with at least one event of exactly the true text.
    pub passes_read_exactly: usize,
    /// Passes with more than one event.
    pub passes_reported_twice: usize,
    /// Events inside the window.
    pub events: usize,
    /// Events whose text matches no pass's plate at that camera (partial reads included when a
    /// character they did read is wrong).
    pub events_with_unknown_text: usize,
    /// Events that left characters unread (`?`) and whose read characters all fit a pass's plate
    /// at that camera: they assert nothing wrong, but they are not exact reads either.
    pub events_partial: usize,
    /// Plates of passes missed, for diagnosis.
    pub missed: Vec<String>,
    /// Texts of unknown-text events, for diagnosis.
    pub unknown_texts: Vec<String>,
}

impl Score {
    /// The figures as JSON, for reports and test artifacts.
    pub fn figures(&self) -> serde_json::Value {
        serde_json::json!({
            "passes": self.passes,
            "passes_read_exactly": self.passes_read_exactly,
            "recall_exact": self.recall(),
            "events": self.events,
            "events_with_unknown_text": self.events_with_unknown_text,
            "unknown_text_rate": self.unknown_text_rate(),
            "events_partial": self.events_partial,
            "partial_rate": self.partial_rate(),
            "passes_reported_twice": self.passes_reported_twice,
            "duplicate_rate": self.duplicate_rate(),
            "missed": self.missed,
            "unknown_texts": self.unknown_texts,
        })
    }

    pub fn recall(&self) -> f64 {
        ratio(self.passes_read_exactly, self.passes)
    }
    pub fn unknown_text_rate(&self) -> f64 {
        ratio(self.events_with_unknown_text, self.events)
    }
    pub fn partial_rate(&self) -> f64 {
        ratio(self.events_partial, self.events)
    }
    pub fn duplicate_rate(&self) -> f64 {
        ratio(self.passes_reported_twice, self.passes)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores `events` against `truth`. Each event is attributed to the pass at its camera that
/// overlaps it in time (within `slack`) and whose plate is closest to its text.
pub fn score(truth: &[TruthPass], events: &[Event], p: &ScoreParams) -> Score {
    let judged = |t: &TruthPass| t.visible_from >= p.from && t.visible_to <= p.to;
    let events: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == EventKind::PlateRead && e.ts >= p.from && e.ts <= p.to + p.slack)
        .collect();
    let mut per_pass = vec![0usize; truth.len()];
    let mut exact = vec![false; truth.len()];
    let mut s = Score {
        passes: truth.iter().filter(|t| judged(t)).count(),
        events: events.len(),
        ..Score::default()
    };
    for e in &events {
        let Some(text) = e.plate.as_ref().map(|pl| pl.text.as_str()) else {
            continue;
        };
        let at_camera = || {
            truth
                .iter()
                .filter(|t| (p.camera_id)(t.camera) == e.camera_id)
        };
        let known = at_camera().any(|t| plates_match(&t.plate, text));
        if !known
            && is_partial_plate(text)
            && at_camera().any(|t| fits_plate(text, &t.plate, usize::MAX))
        {
            s.events_partial += 1;
        } else if !known {
            s.events_with_unknown_text += 1;
            s.unknown_texts.push(format!("{} {}", e.camera_id, text));
        }
        // Attribute the event to the pass it most likely reports: among passes at its camera
        // that overlap it in time (judged or not), the one whose plate is closest to its text.
        let candidate = truth
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                (p.camera_id)(t.camera) == e.camera_id
                    && e.ts >= t.visible_from - p.slack
                    && e.ts <= t.visible_to + p.slack
            })
            .map(|(i, t)| {
                (
                    i,
                    plates_match(&t.plate, text),
                    common_chars(&t.plate, text),
                )
            })
            // A read sharing fewer than half its characters with a plate is not a read of it.
            .filter(|&(_, is_exact, common)| is_exact || 2 * common >= text.chars().count())
            .max_by_key(|&(_, is_exact, common)| (is_exact, common));
        if let Some((i, is_exact, _)) = candidate {
            per_pass[i] += 1;
            exact[i] |= is_exact;
        }
    }
    let judged_indices = || {
        truth
            .iter()
            .enumerate()
            .filter(|(_, t)| judged(t))
            .map(|(i, _)| i)
    };
    s.passes_read_exactly = judged_indices().filter(|&i| exact[i]).count();
    s.passes_reported_twice = judged_indices().filter(|&i| per_pass[i] > 1).count();
    s.missed = judged_indices()
        .filter(|&i| !exact[i])
        .map(|i| {
            let t = &truth[i];
            format!(
                "cam {} {} {}",
                t.camera,
                t.plate,
                t.visible_from.format("%H:%M:%S")
            )
        })
        .collect();
    s
}

fn common_chars(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).filter(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use xl_schema::{PlateColor, PlateInfo, Provenance, Quad, Source, SourceKind};

    use super::*;

    fn at(s: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap() + Duration::seconds(s)
    }

    fn pass(camera: u32, plate: &str, from: i64, to: i64) -> TruthPass {
        TruthPass {
            camera,
            plate: plate.into(),
            visible_from: at(from),
            visible_to: at(to),
        }
    }

    /// Scoring over the first minute, with 2 s of slack.
    fn first_minute() -> ScoreParams {
        ScoreParams {
            from: at(0),
            to: at(60),
            slack: Duration::seconds(2),
            camera_id: |i| format!("cam-{i}"),
        }
    }

    fn event(camera: &str, text: &str, ts: i64) -> Event {
        Event {
            id: uuid::Uuid::nil(),
            kind: EventKind::PlateRead,
            camera_id: camera.into(),
            ts: at(ts),
            plate: Some(PlateInfo {
                text: text.into(),
                color: PlateColor::Blue,
                confidence: 0.9,
                corners: Quad([[0.0; 2]; 4]),
                double_layer: false,
            }),
            vehicle: None,
            evidence: vec![],
            details: None,
            provenance: Provenance {
                pipeline: "p".into(),
                pipeline_sha256: String::new(),
                models: BTreeMap::new(),
                source: Source {
                    kind: SourceKind::Rtsp,
                    path: None,
                    frame: 0,
                    pts_90k: None,
                    size: None,
                },
            },
        }
    }

    #[test]
    fn counts_exact_reads_unknown_texts_and_duplicates() {
        let truth = vec![
            pass(1, "皖S12345", 10, 14),
            pass(1, "皖S22222", 20, 24),
            pass(2, "苏A88888", 10, 14),
            pass(2, "皖S99999", 13, 70), // still on screen after the window: not judged
        ];
        let events = vec![
            event("cam-1", "皖S12345", 13),
            event("cam-1", "皖S12345", 15), // duplicate of the first pass
            event("cam-1", "皖S22Z22", 22), // misread: unknown text, pass missed
            event("cam-2", "苏A88888", 12),
            // A read of a pass outside the window, overlapping a judged pass: not a duplicate.
            event("cam-2", "皖S99999", 15),
        ];
        let s = score(&truth, &events, &first_minute());
        assert_eq!(s.passes, 3);
        assert_eq!(s.passes_read_exactly, 2);
        assert_eq!(s.passes_reported_twice, 1);
        assert_eq!(s.events, 5);
        assert_eq!(s.events_with_unknown_text, 1);
        assert!((s.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.missed.len(), 1);
    }

    #[test]
    fn a_partial_read_is_counted_apart_unless_what_it_read_is_wrong() {
        let truth = vec![pass(1, "新G6NN34", 10, 14), pass(1, "皖S22222", 20, 24)];
        let events = vec![
            event("cam-1", "?G6NN34", 13),
            event("cam-1", "?S22Z22", 22), // a read character is wrong
        ];
        let s = score(&truth, &events, &first_minute());
        assert_eq!(s.events_partial, 1);
        assert_eq!(s.events_with_unknown_text, 1);
        assert_eq!(s.unknown_texts, ["cam-1 ?S22Z22"]);
        assert_eq!(
            s.passes_read_exactly, 0,
            "a partial read is not an exact one"
        );
    }

    #[test]
    fn parses_simulator_truth_lines() {
        let t = parse_truth("{\"camera\":1,\"plate\":\"皖S12345\",\"color\":\"blue\",\"vehicle_class\":\"car\",\"visible_from\":\"2026-11-29T10:00:00+08:00\",\"visible_to\":\"2026-11-29T10:00:04+08:00\"}\n\n").unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].plate, "皖S12345");
    }
}
