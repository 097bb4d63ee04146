use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use anyhow::Context;
use chrono::DateTime;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use xl_config::{PipelineConfig, SystemConfig};
use xl_pipeline::{
    collect_inputs, load_models, reanalyze, PipelineError, ReanalyzeOptions, ReanalyzeProgress,
};

use crate::args::ReanalyzeArgs;

pub fn run(a: ReanalyzeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.sample_fps > 0.0, "--sample-fps must be positive");
    let pipeline = PipelineConfig::load(&a.pipeline)?;
    let start = a
        .start
        .as_deref()
        .map(DateTime::parse_from_rfc3339)
        .transpose()
        .context("--start must be an RFC 3339 time such as 2026-11-29T08:00:00+08:00")?;
    let inputs = collect_inputs(&a.paths)?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "no image or video files found in the given paths"
    );
    let cameras = match &a.config {
        Some(path) => SystemConfig::load(path)?
            .cameras
            .into_iter()
            .map(|c| (c.id, (c.lat, c.lon)))
            .collect(),
        None => Vec::new(),
    };
    let wim = match &a.wim {
        Some(path) => super::wim::read_jsonl(path)?,
        None => Vec::new(),
    };
    let ort_library = super::run::init_runtimes(a.ort_library.as_deref())?;
    let models = load_models(&pipeline, 1, &ort_library)?.remove(0);
    let opts = ReanalyzeOptions {
        pipeline,
        camera_id: a.camera.clone(),
        cameras,
        start,
        evidence_root: a.evidence.clone(),
        sample_fps: a.sample_fps,
        wim,
    };
    let mut out: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let bar = progress_bar(inputs.len() as u64);
    let summary = reanalyze(
        &inputs,
        &models,
        &opts,
        |p| match p {
            ReanalyzeProgress::FileStarted {
                index, total, path, ..
            } => {
                bar.set_position(index as u64);
                bar.set_message(format!("{}/{} {}", index + 1, total, path.display()));
            }
            ReanalyzeProgress::Frame { frames_in_file } => {
                bar.set_prefix(format!("frame {frames_in_file}"))
            }
            ReanalyzeProgress::FileFinished { index, .. } => bar.set_position(index as u64 + 1),
        },
        |event| {
            let line = serde_json::to_string(event).map_err(|e| PipelineError::Output(e.into()))?;
            writeln!(out, "{line}").map_err(PipelineError::Output)
        },
    )?;
    out.flush().context("writing events")?;
    bar.finish_and_clear();
    tracing::info!(
        files = summary.files,
        frames = summary.frames,
        events = summary.events,
        failed = summary.failed.len(),
        "re-analysis done"
    );
    for (line, reason) in &summary.wim_rejected {
        tracing::warn!(line, reason = %reason, "WIM record rejected");
    }
    if let Some((path, reason)) = summary.failed.first() {
        anyhow::bail!(
            "{} of {} files failed; first: {}: {reason}",
            summary.failed.len(),
            summary.files,
            path.display()
        );
    }
    Ok(())
}

/// A bar on a terminal; nothing when stderr is redirected (logs and CI stay clean).
fn progress_bar(files: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(files), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(files);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files {prefix} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
