//! `xl reanalyze`: the live analysis code run over image and video files, deterministically.
//!
//! Files are grouped by camera (a file whose name starts with a known camera id belongs to it;
//! the rest to the default camera). Each camera's files run one after another, and the cameras
//! run interleaved in event-time order, so rules that span cameras (cloned plates, WIM fusion) see
//! reads in the order they happened, as live.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, SubsecRound};
use tracing::warn;
use xl_config::PipelineConfig;
use xl_decode::{DecodeMode, DecodedFrame, FileDecoder};
use xl_schema::{china_offset, Event, SourceKind, VehicleInfo, WimRecord};
use xl_store::EvidenceStore;

use crate::enforcement::{read_ref, Enforcement, PassRecord};
use crate::models::{model_digests, tracker_params, vehicle_tracker_params, AnalysisModels};
use crate::{
    read_image, AnalysedFrame, CameraAnalysis, EventFactory, FrameMeta, IdMode, InputFile,
    InputKind, PipelineError,
};

#[derive(Debug, Clone)]
pub struct ReanalyzeOptions {
    pub pipeline: PipelineConfig,
    /// `camera_id` of files that match no camera in `cameras`.
    pub camera_id: String,
    /// Known cameras: id and (lat, lon). A file whose name starts with an id (followed by `_`,
    /// `-`, `.` or the end) is that camera's footage.
    pub cameras: Vec<(String, (f64, f64))>,
    /// Time of a video's first frame (and of stills); default: the file's modification time.
    pub start: Option<DateTime<FixedOffset>>,
    /// Write evidence JPEGs under this folder; none by default.
    pub evidence_root: Option<PathBuf>,
    /// Frames analysed per second of video.
    pub sample_fps: f32,
    /// Weigh-in-motion records to fuse with the reads (overload rule).
    pub wim: Vec<WimRecord>,
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
    /// WIM records refused (unknown station, invalid values), with the reason.
    pub wim_rejected: Vec<(usize, String)>,
}

/// The camera a file belongs to: the longest known id its name starts with.
pub fn camera_for_file<'a>(path: &Path, cameras: &'a [(String, (f64, f64))]) -> Option<&'a str> {
    let name = path.file_name()?.to_str()?;
    cameras
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| {
            name.strip_prefix(id)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['_', '-', '.']))
        })
        .max_by_key(|id| id.len())
}

/// Runs every input through `models`, calling `emit` for each event in a deterministic order.
/// A file that fails is reported in the summary and the others still run.
pub fn reanalyze(
    inputs: &[InputFile],
    models: &AnalysisModels,
    opts: &ReanalyzeOptions,
    mut progress: impl FnMut(ReanalyzeProgress<'_>),
    mut emit: impl FnMut(&Event) -> Result<(), PipelineError>,
) -> Result<ReanalyzeSummary, PipelineError> {
    let factory = Arc::new(EventFactory {
        pipeline: opts.pipeline.name.clone(),
        pipeline_sha256: opts.pipeline.sha256.clone(),
        models: model_digests(&opts.pipeline)?,
        evidence: opts
            .evidence_root
            .as_deref()
            .map(|root| EvidenceStore::open(&root.to_string_lossy()))
            .transpose()?,
        ids: IdMode::Deterministic,
    });
    let positions: HashMap<String, (f64, f64)> = opts.cameras.iter().cloned().collect();
    let enforcement = Arc::new(Enforcement::new(&opts.pipeline.rules, positions)?);
    let mut summary = ReanalyzeSummary::default();
    for (i, record) in opts.wim.iter().enumerate() {
        if let Err(e) = enforcement.ingest_wim(record.clone()) {
            summary.wim_rejected.push((i + 1, e.to_string()));
        }
    }
    let run = Run {
        models,
        opts,
        factory: &factory,
        enforcement: &enforcement,
        total: inputs.len(),
    };
    // Stills first, in order; then the videos, per camera, interleaved by time.
    let mut by_camera: BTreeMap<String, Vec<(usize, &InputFile)>> = BTreeMap::new();
    for (index, input) in inputs.iter().enumerate() {
        summary.files += 1;
        let camera = camera_for_file(&input.path, &opts.cameras)
            .unwrap_or(&opts.camera_id)
            .to_string();
        match input.kind {
            InputKind::Image => {
                progress(ReanalyzeProgress::FileStarted {
                    index,
                    total: inputs.len(),
                    path: &input.path,
                    estimated_frames: Some(1),
                });
                summary.frames += 1;
                let mut events = 0u64;
                let result = run.image(input, &camera, &mut |e| {
                    events += 1;
                    emit(e)
                });
                summary.events += events;
                progress(ReanalyzeProgress::FileFinished { index, events });
                run.record_failure(&mut summary, &input.path, result)?;
            }
            InputKind::Video => by_camera.entry(camera).or_default().push((index, input)),
        }
    }
    let mut lanes: Vec<CameraLane> = by_camera
        .into_iter()
        .map(|(camera, files)| CameraLane {
            camera: Arc::from(camera.as_str()),
            files: files.into_iter().rev().collect(),
            open: None,
        })
        .collect();
    loop {
        for lane in &mut lanes {
            while lane.open.is_none() {
                let Some((index, input)) = lane.files.pop() else {
                    break;
                };
                match run.open(index, input, &lane.camera, &mut progress) {
                    Ok(open) => lane.open = Some(open),
                    Err(e) => {
                        progress(ReanalyzeProgress::FileFinished { index, events: 0 });
                        run.record_failure(&mut summary, &input.path, Err(e))?;
                    }
                }
            }
        }
        // The camera whose next frame is earliest goes next (ties: the first camera).
        let next = lanes
            .iter_mut()
            .enumerate()
            .filter_map(|(i, l)| l.open.as_mut().map(|o| (i, o.next_ts())))
            .min_by_key(|&(i, ts)| (ts, i));
        let Some((lane_index, _)) = next else {
            break;
        };
        let open = lanes[lane_index]
            .open
            .as_mut()
            .expect("chosen lane is open");
        let step = run.step(open, &mut summary.frames, &mut progress, &mut emit)?;
        if let Some(outcome) = step {
            let open = lanes[lane_index].open.take().expect("chosen lane is open");
            let mut events = open.events;
            for event in open.finish_events {
                events += 1;
                emit(&event)?;
            }
            summary.events += events;
            progress(ReanalyzeProgress::FileFinished {
                index: open.index,
                events,
            });
            run.record_failure(&mut summary, &open.path, outcome)?;
        }
    }
    for event in enforcement.flush_overload(&factory) {
        summary.events += 1;
        emit(&event)?;
    }
    Ok(summary)
}

/// One camera's video files, and the one being analysed.
struct CameraLane<'a> {
    camera: Arc<str>,
    /// Files still to open, last first.
    files: Vec<(usize, &'a InputFile)>,
    open: Option<OpenVideo>,
}

struct OpenVideo {
    index: usize,
    path: PathBuf,
    start: DateTime<FixedOffset>,
    decoder: std::iter::Peekable<FileDecoder>,
    analysis: CameraAnalysis,
    frames: u64,
    events: u64,
    finish_events: Vec<Event>,
}

impl OpenVideo {
    /// Event time of the next frame; a finished or failed decoder sorts first so it is closed.
    fn next_ts(&mut self) -> DateTime<FixedOffset> {
        match self.decoder.peek() {
            Some(Ok(f)) => frame_ts(self.start, f),
            _ => DateTime::<FixedOffset>::MIN_UTC.fixed_offset(),
        }
    }
}

fn frame_ts(start: DateTime<FixedOffset>, f: &DecodedFrame) -> DateTime<FixedOffset> {
    let secs = f.pts_90k as f64 / 90_000.0;
    (start + Duration::microseconds((secs * 1e6) as i64)).trunc_subsecs(3)
}

struct Run<'a> {
    models: &'a AnalysisModels,
    opts: &'a ReanalyzeOptions,
    factory: &'a Arc<EventFactory>,
    enforcement: &'a Arc<Enforcement>,
    total: usize,
}

impl Run<'_> {
    fn record_failure(
        &self,
        summary: &mut ReanalyzeSummary,
        path: &Path,
        result: Result<(), PipelineError>,
    ) -> Result<(), PipelineError> {
        match result {
            Ok(()) => Ok(()),
            Err(PipelineError::Output(e)) => Err(PipelineError::Output(e)),
            Err(e) => {
                warn!(path = %path.display(), error = %e, "file not fully analysed");
                summary.failed.push((path.to_path_buf(), e.to_string()));
                Ok(())
            }
        }
    }

    fn start_of(&self, path: &Path) -> Result<DateTime<FixedOffset>, PipelineError> {
        match self.opts.start {
            Some(t) => Ok(t),
            None => modified_time(path),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn meta(
        &self,
        camera: &Arc<str>,
        path: &Path,
        frame_index: u64,
        pts_90k: Option<i64>,
        ts: DateTime<FixedOffset>,
        time: f64,
        scale: (f32, f32),
        source_size: (u32, u32),
    ) -> FrameMeta {
        FrameMeta {
            camera_id: camera.clone(),
            frame_index,
            pts_90k,
            time,
            ts,
            source_kind: SourceKind::File,
            source_path: Some(Arc::from(path.to_string_lossy().as_ref())),
            scale_to_source: scale,
            source_size,
        }
    }

    fn image(
        &self,
        input: &InputFile,
        camera: &str,
        emit: &mut dyn FnMut(&Event) -> Result<(), PipelineError>,
    ) -> Result<(), PipelineError> {
        let path = &input.path;
        let ts = self.start_of(path)?;
        let image = read_image(path)?;
        let findings = self.models.analyse(&image, &self.opts.pipeline)?;
        let mut observations = findings.plates;
        // Reading order: left to right, then top to bottom.
        observations.sort_by(|a, b| {
            let (ab, bb) = (a.corners.bbox(), b.corners.bbox());
            ab.x1.total_cmp(&bb.x1).then(ab.y1.total_cmp(&bb.y1))
        });
        let camera: Arc<str> = Arc::from(camera);
        let size = image.dimensions();
        let frame = AnalysedFrame {
            image: Arc::new(image),
            meta: self.meta(&camera, path, 0, None, ts, 0.0, (1.0, 1.0), size),
            vehicles: Arc::from(Vec::new()),
        };
        for (i, obs) in observations.iter().enumerate() {
            let mut event = self.factory.still_read(&frame, obs, i);
            // A still has no tracks: the vehicle is the detection holding the plate, numbered
            // by its place in the detector's output.
            let (cx, cy) = obs.corners.bbox().center();
            event.vehicle = findings
                .vehicles
                .iter()
                .enumerate()
                .filter(|(_, v)| {
                    v.bbox.x1 <= cx && cx <= v.bbox.x2 && v.bbox.y1 <= cy && cy <= v.bbox.y2
                })
                .min_by(|a, b| a.1.bbox.area().total_cmp(&b.1.bbox.area()))
                .map(|(k, v)| VehicleInfo {
                    class: v.class.as_str().to_string(),
                    bbox: v.bbox,
                    track_id: k as u64 + 1,
                });
            emit(&event)?;
            let pass = PassRecord {
                read: Some(read_ref(&event)),
                camera_id: event.camera_id.clone(),
                ts,
                plate: event.plate.clone(),
                vehicle: event.vehicle.clone(),
                evidence: event.evidence.clone(),
                source: event.provenance.source.clone(),
                event_id: event.id.to_string(),
                first_ts: ts,
                last_ts: ts,
                bbox: event.vehicle.as_ref().map(|v| v.bbox),
            };
            for rule_event in self.enforcement.on_plate_read(&event, pass, self.factory) {
                emit(&rule_event)?;
            }
        }
        Ok(())
    }

    fn open(
        &self,
        index: usize,
        input: &InputFile,
        camera: &Arc<str>,
        progress: &mut impl FnMut(ReanalyzeProgress<'_>),
    ) -> Result<OpenVideo, PipelineError> {
        let start = self.start_of(&input.path)?;
        let size = self.opts.pipeline.analysis;
        let decoder = xl_decode::open_file(
            &input.path,
            size.width,
            size.height,
            DecodeMode::SampleFps(self.opts.sample_fps),
        )?;
        progress(ReanalyzeProgress::FileStarted {
            index,
            total: self.total,
            path: &input.path,
            estimated_frames: decoder.estimated_frames(),
        });
        let pipeline = &self.opts.pipeline;
        Ok(OpenVideo {
            index,
            path: input.path.clone(),
            start,
            decoder: decoder.peekable(),
            analysis: CameraAnalysis::new(
                camera.clone(),
                tracker_params(pipeline),
                vehicle_tracker_params(pipeline),
                self.enforcement.camera_rules(camera)?,
                self.enforcement.clone(),
                self.factory.clone(),
            ),
            frames: 0,
            events: 0,
            finish_events: Vec::new(),
        })
    }

    /// Analyses the file's next frame. `Some(outcome)` when the file has ended (its last events
    /// are then in `finish_events`).
    fn step(
        &self,
        open: &mut OpenVideo,
        frames_total: &mut u64,
        progress: &mut impl FnMut(ReanalyzeProgress<'_>),
        emit: &mut impl FnMut(&Event) -> Result<(), PipelineError>,
    ) -> Result<Option<Result<(), PipelineError>>, PipelineError> {
        let decoded = match open.decoder.next() {
            None => {
                open.finish_events = open.analysis.finish();
                return Ok(Some(Ok(())));
            }
            Some(Err(e)) => {
                // A truncated file: keep what was decoded, finish the tracks, then report.
                open.finish_events = open.analysis.finish();
                return Ok(Some(Err(PipelineError::from(e))));
            }
            Some(Ok(d)) => d,
        };
        open.frames += 1;
        *frames_total += 1;
        progress(ReanalyzeProgress::Frame {
            frames_in_file: open.frames,
        });
        let findings = self.models.analyse(&decoded.image, &self.opts.pipeline)?;
        let ts = frame_ts(open.start, &decoded);
        let secs = decoded.pts_90k as f64 / 90_000.0;
        let scale = FrameMeta::scale_of(&decoded);
        let camera = open.analysis.camera().clone();
        let meta = self.meta(
            &camera,
            &open.path,
            decoded.frame_index,
            Some(decoded.pts_90k),
            ts,
            secs,
            scale,
            (decoded.source_width, decoded.source_height),
        );
        for event in open.analysis.on_frame(
            Arc::new(decoded.image),
            meta,
            findings.plates,
            &findings.vehicles,
        ) {
            open.events += 1;
            emit(&event)?;
        }
        Ok(None)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_belong_to_the_longest_camera_id_they_start_with() {
        let cams = vec![
            ("cam-1".to_string(), (0.0, 0.0)),
            ("cam-12".to_string(), (0.0, 0.0)),
        ];
        let of = |p: &str| camera_for_file(Path::new(p), &cams);
        assert_eq!(of("/v/cam-1.mp4"), Some("cam-1"));
        assert_eq!(of("/v/cam-12_2026-11-29.mp4"), Some("cam-12"));
        assert_eq!(of("/v/cam-1-morning.mkv"), Some("cam-1"));
        assert_eq!(of("/v/cam-123.mp4"), None);
        assert_eq!(of("/v/other.mp4"), None);
    }
}
