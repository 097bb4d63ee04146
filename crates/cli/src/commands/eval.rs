//! `xl eval rules` and `xl eval plates`: precision and recall against simulator truth.
use std::path::Path;

use anyhow::Context;
use xl_schema::Event;

use crate::output::stdout_line;

pub fn rules(
    truth: &Path,
    events: &Path,
    from: Option<&str>,
    to: Option<&str>,
    json: Option<&Path>,
) -> anyhow::Result<()> {
    let truth_text = std::fs::read_to_string(truth)
        .with_context(|| format!("cannot read {}", truth.display()))?;
    let truth = xl_eval::parse_rule_truth(&truth_text)
        .with_context(|| format!("{} is not rule truth JSONL", truth.display()))?;
    let events = read_events(events)?;
    let from = match super::flow::parse_time(from, "--from")? {
        Some(t) => t,
        None => truth
            .iter()
            .map(|t| t.from)
            .min()
            .context("the truth is empty")?,
    };
    let to = match super::flow::parse_time(to, "--to")? {
        Some(t) => t,
        None => events
            .iter()
            .map(|e| e.ts)
            .max()
            .context("there are no events")?,
    };
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
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&scores)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Exact reads, unknown texts and passes reported twice, as the acceptance counts them.
pub fn plates(
    truth: &Path,
    events: &Path,
    from: Option<&str>,
    to: Option<&str>,
    json: Option<&Path>,
) -> anyhow::Result<()> {
    let truth_text = std::fs::read_to_string(truth)
        .with_context(|| format!("cannot read {}", truth.display()))?;
    let truth = xl_eval::parse_truth(&truth_text)
        .with_context(|| format!("{} is not plate truth JSONL", truth.display()))?;
    let events = read_events(events)?;
    let from = match super::flow::parse_time(from, "--from")? {
        Some(t) => t,
        None => truth
            .iter()
            .map(|t| t.visible_from)
            .min()
            .context("the truth is empty")?,
    };
    let to = match super::flow::parse_time(to, "--to")? {
        Some(t) => t,
        None => truth.iter().map(|t| t.visible_to).max().unwrap_or(from),
    };
    let params = xl_eval::ScoreParams {
        from,
        to,
        slack: chrono::Duration::milliseconds(2500),
        camera_id: xl_sim::camera_id,
    };
    let s = xl_eval::score(&truth, &events, &params);
    stdout_line(&format!(
        "passes {}  read exactly {} ({:.1}%)  events {}  unknown text {} ({:.1}%)  reported twice {} ({:.1}%)",
        s.passes,
        s.passes_read_exactly,
        100.0 * s.recall(),
        s.events,
        s.events_with_unknown_text,
        100.0 * s.unknown_text_rate(),
        s.passes_reported_twice,
        100.0 * s.duplicate_rate(),
    ))?;
    stdout_line(&format!("missed: {}", s.missed.join(", ")))?;
    stdout_line(&format!("unknown texts: {}", s.unknown_texts.join(", ")))?;
    if let Some(path) = json {
        let figures = serde_json::json!({
            "passes": s.passes,
            "passes_read_exactly": s.passes_read_exactly,
            "recall_exact": s.recall(),
            "events": s.events,
            "events_with_unknown_text": s.events_with_unknown_text,
            "unknown_text_rate": s.unknown_text_rate(),
            "passes_reported_twice": s.passes_reported_twice,
            "duplicate_rate": s.duplicate_rate(),
            "missed": s.missed,
            "unknown_texts": s.unknown_texts,
        });
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
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
