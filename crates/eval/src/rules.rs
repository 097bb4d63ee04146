//! Scoring rule events (watch list, zones, overload, obscured and cloned plates, flow) against
//! the rule truth the simulator writes: precision and recall per rule.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
use xl_schema::{Event, EventDetails, EventKind};

/// One rule event a perfect pipeline would produce (a line of `rules-truth.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTruth {
    /// Event kind (`watchlist_hit`, `restricted_zone`, ...).
    pub kind: String,
    pub camera: String,
    /// The plate the event should carry (None: no readable plate).
    pub plate: Option<String>,
    /// When it happens; an event stamped within `[from, to]` (plus slack) matches.
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// Too close to a rule boundary to score either way.
    #[serde(default)]
    pub ambiguous: bool,
    /// Kind-specific facts: listed plate, WIM record key, flow line and counts.
    #[serde(default)]
    pub detail: BTreeMap<String, serde_json::Value>,
}

/// Precision and recall of one rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleScore {
    pub truth: usize,
    pub events: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    /// Matched events whose plate differs from the truth's.
    pub wrong_plate: usize,
}

impl RuleScore {
    pub fn precision(&self) -> f64 {
        let d = self.true_positives + self.false_positives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }

    pub fn recall(&self) -> f64 {
        let d = self.true_positives + self.false_negatives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }
}

/// Parses `rules-truth.jsonl`.
pub fn parse_rule_truth(jsonl: &str) -> Result<Vec<RuleTruth>, serde_json::Error> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

/// Scores every rule over `[from, to)`: truth and events outside are ignored; `slack` widens
/// each truth interval (tracking and decision delays).
pub fn score_rules(
    truth: &[RuleTruth],
    events: &[Event],
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    slack: Duration,
) -> BTreeMap<String, RuleScore> {
    let mut out = BTreeMap::new();
    for kind in EventKind::ALL
        .iter()
        .filter(|k| **k != EventKind::PlateRead)
    {
        let name = kind.as_str();
        let t: Vec<&RuleTruth> = truth
            .iter()
            .filter(|r| r.kind == name && r.from >= from && r.to < to)
            .collect();
        let e: Vec<&Event> = events
            .iter()
            .filter(|e| e.kind == *kind && e.ts >= from && e.ts < to)
            .collect();
        let score = if *kind == EventKind::FlowCount {
            score_flow(&t, &e)
        } else {
            score_matches(&t, &e, slack)
        };
        out.insert(name.to_string(), score);
    }
    out
}

fn key_of(e: &Event) -> Option<String> {
    match &e.details {
        Some(EventDetails::WatchlistHit { listed_plate, .. }) => Some(listed_plate.clone()),
        Some(EventDetails::Overload { wim, .. }) => Some(wim.idempotency_key()),
        _ => None,
    }
}

fn truth_key(r: &RuleTruth) -> Option<String> {
    let s = |k: &str| r.detail.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match r.kind.as_str() {
        "watchlist_hit" => s("listed_plate"),
        "overload" => s("wim_key"),
        _ => None,
    }
}

/// One-to-one matching in time order: a truth matches the earliest unused event of its camera
/// (and key, where the rule has one) inside its interval.
fn score_matches(truth: &[&RuleTruth], events: &[&Event], slack: Duration) -> RuleScore {
    let mut used = vec![false; events.len()];
    let mut score = RuleScore {
        truth: truth.iter().filter(|t| !t.ambiguous).count(),
        events: events.len(),
        ..RuleScore::default()
    };
    for t in truth {
        let key = truth_key(t);
        let found = events.iter().enumerate().position(|(i, e)| {
            !used[i]
                && e.camera_id == t.camera
                && e.ts >= t.from - slack
                && e.ts <= t.to + slack
                && (key.is_none() || key_of(e) == key)
        });
        match found {
            Some(i) => {
                used[i] = true;
                if t.ambiguous {
                    continue;
                }
                score.true_positives += 1;
                let plate = events[i].plate.as_ref().map(|p| p.text.as_str());
                if plate != t.plate.as_deref() {
                    score.wrong_plate += 1;
                }
            }
            None if !t.ambiguous => score.false_negatives += 1,
            None => {}
        }
    }
    score.false_positives = used.iter().filter(|u| !**u).count();
    score
}

/// Flow: counts compared per camera, line, direction, interval and class; a vehicle counted is a
/// true positive up to the true count.
fn score_flow(truth: &[&RuleTruth], events: &[&Event]) -> RuleScore {
    type Key = (String, String, String, i64, String);
    let mut want: BTreeMap<Key, u32> = BTreeMap::new();
    let mut got: BTreeMap<Key, u32> = BTreeMap::new();
    for t in truth {
        let s = |k: &str| {
            t.detail
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let counts: BTreeMap<String, u32> = t
            .detail
            .get("counts")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        for (class, n) in counts {
            let key = (
                t.camera.clone(),
                s("line_id"),
                s("direction"),
                t.from.timestamp(),
                class,
            );
            *want.entry(key).or_default() += n;
        }
    }
    for e in events {
        if let Some(EventDetails::FlowCount {
            line_id,
            direction,
            interval_start,
            counts,
            ..
        }) = &e.details
        {
            for (class, n) in counts {
                let key = (
                    e.camera_id.clone(),
                    line_id.clone(),
                    direction.clone(),
                    interval_start.timestamp(),
                    class.clone(),
                );
                *got.entry(key).or_default() += n;
            }
        }
    }
    let mut score = RuleScore {
        truth: want.values().sum::<u32>() as usize,
        events: got.values().sum::<u32>() as usize,
        ..RuleScore::default()
    };
    let keys: std::collections::BTreeSet<&Key> = want.keys().chain(got.keys()).collect();
    for k in keys {
        let (w, g) = (*want.get(k).unwrap_or(&0), *got.get(k).unwrap_or(&0));
        score.true_positives += w.min(g) as usize;
        score.false_negatives += w.saturating_sub(g) as usize;
        score.false_positives += g.saturating_sub(w) as usize;
    }
    score
}
