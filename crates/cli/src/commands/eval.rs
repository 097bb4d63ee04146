//! `xl eval rules` and `xl eval plates`: precision and recall against simulator truth.
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use xl_schema::Event;

use crate::args::EvalArgs;
use crate::output::stdout_line;

pub fn rules(a: &EvalArgs) -> anyhow::Result<()> {
    let truth = read_truth(&a.truth, "rule truth", xl_eval::parse_rule_truth)?;
    let events = read_events(&a.events)?;
    let (from, to) = window(
        a,
        truth.iter().map(|t| t.from),
        events.iter().map(|e| e.ts).max(),
    )?;
    let scores = xl_eval::score_rules(&truth, &events, from, to, chrono::Duration::seconds(3));
    stdout_line(&format!(
        "{:<16} {:>6} {:>6} {:>5} {:>5} {:>5} {:>9} {:>7} {:>11}",
        "rule", "truth", "events", "tp", "fp", "fn", "precision", "recall", "wrong plate"
    ))?;
    for (rule, s) in &scores {
        stdout_line(&format!(
            "{:<16} {:>6} {:>6} {:>5} {:>5} {:>5} {:>8.1}% {:>6.1}% {:>11}",
            rule,
            s.truth,
            s.events,
            s.true_positives,
            s.false_positives,
            s.false_negatives,
            100.0 * s.precision(),
            100.0 * s.recall(),
            s.wrong_plate
        ))?;
    }
    write_json(a.json.as_deref(), &serde_json::to_value(&scores)?)
}

/// Exact reads, unknown texts and passes reported twice, as the acceptance of live plate reads
/// counts them.
pub fn plates(a: &EvalArgs) -> anyhow::Result<()> {
    let truth = read_truth(&a.truth, "plate truth", xl_eval::parse_truth)?;
    let events = read_events(&a.events)?;
    let (from, to) = window(
        a,
        truth.iter().map(|t| t.visible_from),
        truth.iter().map(|t| t.visible_to).max(),
    )?;
    let params = xl_eval::ScoreParams {
        from,
        to,
        slack: chrono::Duration::milliseconds(2500),
        camera_id: xl_sim::camera_id,
    };
    let s = xl_eval::score(&truth, &events, &params);
    stdout_line(&format!(
        "passes {}  read exactly {} ({:.1}%)  events {}  unknown text {} ({:.1}%)  partial {} ({:.1}%)  reported twice {} ({:.1}%)",
        s.passes,
        s.passes_read_exactly,
        100.0 * s.recall(),
        s.events,
        s.events_with_unknown_text,
        100.0 * s.unknown_text_rate(),
        s.events_partial,
        100.0 * s.partial_rate(),
        s.passes_reported_twice,
        100.0 * s.duplicate_rate(),
    ))?;
    stdout_line(&format!("missed: {}", s.missed.join(", ")))?;
    stdout_line(&format!("unknown texts: {}", s.unknown_texts.join(", ")))?;
    write_json(a.json.as_deref(), &s.figures())
}

fn read_truth<T, E: std::error::Error + Send + Sync + 'static>(
    path: &Path,
    what: &str,
    parse: fn(&str) -> Result<Vec<T>, E>,
) -> anyhow::Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| format!("{} is not {what} JSONL", path.display()))
}

fn read_events(path: &Path) -> anyhow::Result<Vec<Event>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not an event", path.display(), i + 1))
        })
        .collect()
}

/// `--from`/`--to`, else the truth's first start and `default_to`.
fn window(
    a: &EvalArgs,
    starts: impl Iterator<Item = DateTime<FixedOffset>>,
    default_to: Option<DateTime<FixedOffset>>,
) -> anyhow::Result<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let from = match super::flow::parse_time(a.from.as_deref(), "--from")? {
        Some(t) => t,
        None => starts.min().context("the truth is empty")?,
    };
    let to = match super::flow::parse_time(a.to.as_deref(), "--to")? {
        Some(t) => t,
        None => default_to.context("nothing to score: no events or no truth")?,
    };
    Ok((from, to))
}

fn write_json(path: Option<&Path>, value: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(path) = path {
        std::fs::write(path, serde_json::to_string_pretty(value)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
