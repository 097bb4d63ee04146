//! The enforcement rules end to end on simulated footage: `xl sim --export` writes two cameras'
//! recordings with their world (watch list, cloned and covered plates, loads, WIM records, rule
//! truth); `xl reanalyze` runs the checkpoint pipeline over them with `--config` and `--wim`; the
//! rule events are scored against the truth per rule.
mod common;

use std::collections::BTreeMap;

use chrono::DateTime;
use common::{repo_root, run, stderr, xl};
use xl_eval::{parse_rule_truth, score_rules, RuleScore};
use xl_schema::{Event, EventDetails, EventKind};

const START: &str = "2026-11-29T09:00:00+08:00";

struct Outcome {
    dir: tempfile::TempDir,
    events: Vec<Event>,
    events_path: std::path::PathBuf,
    scores: BTreeMap<String, RuleScore>,
}

fn export_and_reanalyze(cameras: usize, secs: u32, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let export = run(xl()
        .args([
            "sim",
            "--cameras",
            &cameras.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["--export-secs", &secs.to_string(), "--export-start", START])
        .arg("--truth")
        .arg(dir.path().join("truth.jsonl"))
        .arg("--cache-dir")
        .arg(repo_root().join("var/sim-cache"))
        .arg("--export")
        .arg(&out));
    assert!(
        export.status.success(),
        "export failed:\n{}",
        stderr(&export)
    );
    let videos: Vec<_> = (1..=cameras)
        .map(|i| out.join(format!("cam-{i}.mp4")))
        .collect();
    let events_path = dir.path().join("events.jsonl");
    let reanalyze = run(xl()
        .args(["reanalyze", "--start", START, "--pipeline"])
        .arg(out.join("world/pipeline.toml"))
        .arg("--config")
        .arg(out.join("xl.toml"))
        .arg("--wim")
        .arg(out.join("world/wim.jsonl"))
        .arg("--evidence")
        .arg(dir.path().join("evidence"))
        .arg("--out")
        .arg(&events_path)
        .args(&videos));
    assert!(
        reanalyze.status.success(),
        "reanalyze failed:\n{}",
        stderr(&reanalyze)
    );
    let events: Vec<Event> = std::fs::read_to_string(&events_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth =
        parse_rule_truth(&std::fs::read_to_string(out.join("world/rules-truth.jsonl")).unwrap())
            .unwrap();
    let from = DateTime::parse_from_rfc3339(START).unwrap();
    let to = from + chrono::Duration::seconds(i64::from(secs) - 3);
    let scores = score_rules(&truth, &events, from, to, chrono::Duration::seconds(3));
    Outcome {
        dir,
        events,
        events_path,
        scores,
    }
}

fn table(scores: &BTreeMap<String, RuleScore>) -> String {
    scores
        .iter()
        .map(|(k, s)| {
            format!(
                "{k}: truth {} events {} tp {} fp {} fn {}",
                s.truth, s.events, s.true_positives, s.false_positives, s.false_negatives
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rules_on_simulated_footage_match_the_truth() {
    let o = export_and_reanalyze(2, 60, 7);
    let report = table(&o.scores);
    // The plate-driven rules: watch list (exact and fuzzy), cloned plates, overload.
    for rule in ["watchlist_hit", "cloned_plate", "overload"] {
        let s = &o.scores[rule];
        assert!(s.precision() >= 0.8, "{rule} precision\n{report}");
        assert!(s.recall() >= 0.8, "{rule} recall\n{report}");
    }
    let plate_based: usize = ["watchlist_hit", "cloned_plate", "overload"]
        .iter()
        .map(|r| o.scores[*r].truth)
        .sum();
    assert!(plate_based >= 3, "too little to judge:\n{report}");

    // Every rule event carries its details, provenance and (but flow) evidence on disk.
    for e in o.events.iter().filter(|e| e.kind != EventKind::PlateRead) {
        let details = e.details.as_ref().expect("rule events carry details");
        let tag = serde_json::to_value(details).unwrap()["rule"].clone();
        assert_eq!(tag, e.kind.as_str(), "{e:?}");
        assert!(!e.provenance.pipeline_sha256.is_empty());
        if matches!(details, EventDetails::FlowCount { .. }) {
            continue;
        }
        if e.kind == EventKind::Overload && e.plate.is_none() {
            continue;
        }
        assert!(
            !e.evidence.is_empty(),
            "{} without evidence",
            e.kind.as_str()
        );
        for ev in &e.evidence {
            let rel = ev.uri.strip_prefix("evidence://").unwrap();
            assert!(
                o.dir.path().join("evidence").join(rel).is_file(),
                "{}",
                ev.uri
            );
        }
    }
    // A watch-listed read names its list; a fuzzy one says so.
    let hits: Vec<_> = o
        .events
        .iter()
        .filter_map(|e| match &e.details {
            Some(EventDetails::WatchlistHit {
                list,
                fuzzy,
                listed_plate,
                ..
            }) => Some((list.clone(), *fuzzy, listed_plate.clone(), e.plate.clone())),
            _ => None,
        })
        .collect();
    for (list, fuzzy, listed, plate) in &hits {
        assert!(!list.is_empty());
        let read = &plate.as_ref().unwrap().text;
        assert_eq!(*fuzzy, read != listed, "{read} vs {listed}");
    }

    // The export's plate truth scores the same footage's plate reads (`xl eval plates`).
    let figures = o.dir.path().join("plates.json");
    let eval = run(xl()
        .args(["eval", "plates", "--truth"])
        .arg(o.dir.path().join("truth.jsonl"))
        .arg("--events")
        .arg(&o.events_path)
        .arg("--json")
        .arg(&figures));
    assert!(eval.status.success(), "{}", stderr(&eval));
    let f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&figures).unwrap()).unwrap();
    let (passes, recall, unknown) = (
        f["passes"].as_u64().unwrap(),
        f["recall_exact"].as_f64().unwrap(),
        f["unknown_text_rate"].as_f64().unwrap(),
    );
    assert!(passes >= 15, "{f}");
    assert!(recall >= 0.85 && unknown <= 0.10, "{f}");
}
