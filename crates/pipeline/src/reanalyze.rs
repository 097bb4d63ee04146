//! `xl reanalyze`: the live analysis code run over image and video files, deterministically.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, SubsecRound};
use tracing::warn;
use xl_config::PipelineConfig;
use xl_decode::DecodeMode;
use xl_infer::PlateReader;
use xl_schema::{china_offset, Event, SourceKind};
use xl_store::EvidenceStore;

use crate::models::{model_digests, read_plates, tracker_params};
use crate::{
    AnalysedFrame, CameraAnalysis, EventFactory, FrameMeta, IdMode, InputFile, InputKind,
    PipelineError,
};

#[derive(Debug, Clone)]
pub struct ReanalyzeOptions {
    pub pipeline: PipelineConfig,
    /// `camera_id` written into the events.
    pub camera_id: String,
    /// Time of a video's first frame (and of stills); default: the file's modification time.
    pub start: Option<DateTime<FixedOffset>>,
    /// Write evidence JPEGs under this folder; none by default.
    pub evidence_root: Option<PathBuf>,
    /// Frames analysed per second of video.
    pub sample_fps: f32,
}

#[derive(Debug, Clone)]
pub enum ReanalyzeProgress<'a> {
    FileStarted {
        index: usize,
        total: usize,
        path: &'a Path,
        estimated_frames: Option<u64>,
    },
    Frame {
        frames_in_file: u64,
    },
    FileFinished {
        index: usize,
        events: u64,
    },
}

#[derive(Debug, Clone, Default)]
pub struct ReanalyzeSummary {
    pub files: usize,
    pub frames: u64,
    pub events: u64,
    /// Files that could not be (completely) analysed, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// Runs every input in order through `reader`, calling `emit` for each event in a deterministic
/// order. A file that fails is reported in the summary and the others still run.
pub fn reanalyze(
    inputs: &[InputFile],
    reader: &PlateReader,
    opts: &ReanalyzeOptions,
    mut progress: impl FnMut(ReanalyzeProgress<'_>),
    mut emit: impl FnMut(&Event) -> Result<(), PipelineError>,
) -> Result<ReanalyzeSummary, PipelineError> {
    let factory = Arc::new(EventFactory {
        pipeline: opts.pipeline.name.clone(),
        pipeline_sha256: opts.pipeline.sha256.clone(),
        models: model_digests(&opts.pipeline)?,
        evidence: opts.evidence_root.clone().map(EvidenceStore::new),
        ids: IdMode::Deterministic,
    });
    let mut summary = ReanalyzeSummary::default();
    for (index, input) in inputs.iter().enumerate() {
        summary.files += 1;
        let start = match opts.start {
            Some(t) => t,
            None => modified_time(&input.path)?,
        };
        let mut events = 0u64;
        let mut sink = |e: &Event| {
            events += 1;
            emit(e)
        };
        let result = match input.kind {
            InputKind::Image => {
                progress(ReanalyzeProgress::FileStarted {
                    index,
                    total: inputs.len(),
                    path: &input.path,
                    estimated_frames: Some(1),
                });
                summary.frames += 1;
                analyse_image(&input.path, start, reader, &factory, opts, &mut sink)
            }
            InputKind::Video => analyse_video(
                input,
                index,
                inputs.len(),
                start,
                reader,
                &factory,
                opts,
                &mut progress,
                &mut summary.frames,
                &mut sink,
            ),
        };
        summary.events += events;
        progress(ReanalyzeProgress::FileFinished { index, events });
        match result {
            Ok(()) => {}
            Err(PipelineError::Output(e)) => return Err(PipelineError::Output(e)),
            Err(e) => {
                warn!(path = %input.path.display(), error = %e, "file not fully analysed");
                summary.failed.push((input.path.clone(), e.to_string()));
            }
        }
    }
    Ok(summary)
}

fn modified_time(path: &Path) -> Result<DateTime<FixedOffset>, PipelineError> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| PipelineError::Input {
            path: path.to_path_buf(),
            message: format!("cannot read file time: {e}"),
        })?;
    Ok(DateTime::<chrono::Utc>::from(modified)
        .with_timezone(&china_offset())
        .trunc_subsecs(3))
}

fn meta(
    opts: &ReanalyzeOptions,
    path: &Path,
    frame_index: u64,
    pts_90k: Option<i64>,
    ts: DateTime<FixedOffset>,
    time: f64,
    scale: (f32, f32),
) -> FrameMeta {
    FrameMeta {
        camera_id: Arc::from(opts.camera_id.as_str()),
        frame_index,
        pts_90k,
        time,
        ts,
        source_kind: SourceKind::File,
        source_path: Some(Arc::from(path.to_string_lossy().as_ref())),
        scale_to_source: scale,
    }
}

fn analyse_image(
    path: &Path,
    ts: DateTime<FixedOffset>,
    reader: &PlateReader,
    factory: &EventFactory,
    opts: &ReanalyzeOptions,
    emit: &mut impl FnMut(&Event) -> Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    let image = image::open(path)
        .map_err(|e| PipelineError::Input {
            path: path.to_path_buf(),
            message: format!("not a readable image: {e}"),
        })?
        .to_rgb8();
    let mut observations = read_plates(reader, &image, &opts.pipeline.plate)?;
    // Reading order: left to right, then top to bottom.
    observations.sort_by(|a, b| {
        let (ab, bb) = (a.corners.bbox(), b.corners.bbox());
        ab.x1.total_cmp(&bb.x1).then(ab.y1.total_cmp(&bb.y1))
    });
    let frame = AnalysedFrame {
        image: Arc::new(image),
        meta: meta(opts, path, 0, None, ts, 0.0, (1.0, 1.0)),
    };
    for (i, obs) in observations.iter().enumerate() {
        emit(&factory.still_read(&frame, obs, i))?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn analyse_video(
    input: &InputFile,
    index: usize,
    total: usize,
    start: DateTime<FixedOffset>,
    reader: &PlateReader,
    factory: &Arc<EventFactory>,
    opts: &ReanalyzeOptions,
    progress: &mut impl FnMut(ReanalyzeProgress<'_>),
    frames_total: &mut u64,
    emit: &mut impl FnMut(&Event) -> Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    let size = opts.pipeline.analysis;
    let decoder = xl_decode::open_file(
        &input.path,
        size.width,
        size.height,
        DecodeMode::SampleFps(opts.sample_fps),
    )?;
    progress(ReanalyzeProgress::FileStarted {
        index,
        total,
        path: &input.path,
        estimated_frames: decoder.estimated_frames(),
    });
    let mut analysis = CameraAnalysis::new(tracker_params(&opts.pipeline), factory.clone());
    let mut outcome = Ok(());
    for (frames, decoded) in (1u64..).zip(decoder) {
        let decoded = match decoded {
            Ok(d) => d,
            Err(e) => {
                // A truncated file: keep what was decoded, finish the tracks, then report.
                outcome = Err(PipelineError::from(e));
                break;
            }
        };
        *frames_total += 1;
        progress(ReanalyzeProgress::Frame {
            frames_in_file: frames,
        });
        let observations = read_plates(reader, &decoded.image, &opts.pipeline.plate)?;
        let secs = decoded.pts_90k as f64 / 90_000.0;
        let ts = (start + Duration::microseconds((secs * 1e6) as i64)).trunc_subsecs(3);
        let scale = FrameMeta::scale_of(&decoded);
        let frame = AnalysedFrame {
            meta: meta(
                opts,
                &input.path,
                decoded.frame_index,
                Some(decoded.pts_90k),
                ts,
                secs,
                scale,
            ),
            image: Arc::new(decoded.image),
        };
        for event in analysis.on_frame(frame, observations) {
            emit(&event)?;
        }
    }
    for event in analysis.finish() {
        emit(&event)?;
    }
    outcome
}
