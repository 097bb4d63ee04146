//! `xl eval rules`: per-rule precision and recall against simulator truth.
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
    let events_text = std::fs::read_to_string(events)
        .with_context(|| format!("cannot read {}", events.display()))?;
    let events: Vec<Event> = events_text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not an event", events.display(), i + 1))
        })
        .collect::<anyhow::Result<_>>()?;
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
