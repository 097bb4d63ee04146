use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use tracing::debug;

use crate::frame::{sample_to_rgb, DecodedFrame};
use crate::mode::{DecodeMode, Sampler, TICKS_PER_SECOND};
use crate::pipeline::{
    make, output_tail, pipeline_error, pop_bus_error, wait_bus_error, SourceSize,
};
use crate::timeline::ns_to_ticks;
use crate::{init, DecodeError};

/// How long opening (pre-rolling the first frame) may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);
/// No frame and no end of stream for this long means the pipeline is stuck.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
const PULL_SLICE: Duration = Duration::from_millis(100);
/// Video ending this much before the container's stated duration counts as truncated.
const TRUNCATION_SLACK_NS: u64 = 1_000_000_000;
/// Frame rate assumed for streams that carry neither timestamps nor a rate.
const FALLBACK_FPS: f64 = 25.0;

/// Decodes a video file (mp4, mkv, raw .h264/.h265) to RGB frames at the analysis size:
/// `filesrc ! parsebin ! [keyframe filter] ! avdec_h26X max-threads=1 ! videoscale ! videoconvert
/// ! RGB ! appsink sync=false`, pulled synchronously. Same file, same arguments: same frames.
pub struct FileDecoder {
    path: PathBuf,
    mode: DecodeMode,
    pipeline: gst::Pipeline,
    appsink: gst_app::AppSink,
    bus: gst::Bus,
    probe: Arc<ProbeState>,
    parsebin: gst::Element,
    pending_error: Option<(gst::glib::Error, String)>,
    source_size: SourceSize,
    sampler: Sampler,
    decoded: u64,
    fps: Option<f64>,
    video_duration_ns: Option<u64>,
    done: bool,
}

/// What the probe after the parser learns about the compressed stream.
#[derive(Default)]
struct ProbeState {
    video_linked: AtomicBool,
    /// Compressed frames seen, in decode order.
    frames_seen: AtomicU64,
    /// Largest PTS + duration seen, ns (0 when the stream has no timestamps).
    video_end_ns: AtomicU64,
    /// Keyframes mode: (PTS ns, position in the file) of keyframes sent to the decoder.
    keyframe_index: Mutex<VecDeque<(u64, u64)>>,
}

/// Opens `path` and pre-rolls the first frame, so that a missing, non-video or unreadable file
/// fails here with one clear error.
pub fn open_file(
    path: &Path,
    width: u32,
    height: u32,
    mode: DecodeMode,
) -> Result<FileDecoder, DecodeError> {
    init()?;
    let mode = mode.validate()?;
    if width == 0 || height == 0 {
        return Err(DecodeError::InvalidArgument(format!(
            "{}: analysis size {width}x{height}",
            path.display()
        )));
    }
    if !path.is_file() {
        return Err(DecodeError::FileNotFound {
            path: path.to_owned(),
        });
    }
    let context = path.display().to_string();
    let pipeline = gst::Pipeline::new();
    let src = make("filesrc", &context)?;
    src.set_property("location", path.to_string_lossy().as_ref());
    let parsebin = make("parsebin", &context)?;
    pipeline
        .add_many([&src, &parsebin])
        .map_err(|e| pipeline_error(&context, e))?;
    src.link(&parsebin)
        .map_err(|e| pipeline_error(&context, e))?;
    let tail = output_tail(&pipeline, width, height, 4, &context)?;
    let probe = Arc::new(ProbeState::default());
    connect_parsebin(&parsebin, &pipeline, &tail.scale, mode, &probe);

    let bus = pipeline
        .bus()
        .ok_or_else(|| pipeline_error(&context, "pipeline without bus"))?;
    let mut decoder = FileDecoder {
        path: path.to_owned(),
        mode,
        pipeline,
        appsink: tail.appsink,
        bus,
        probe,
        parsebin,
        pending_error: None,
        source_size: tail.source_size,
        sampler: Sampler::new(mode),
        decoded: 0,
        fps: None,
        video_duration_ns: None,
        done: false,
    };
    decoder.preroll()?;
    Ok(decoder)
}

impl FileDecoder {
    /// Frames this decoder is expected to yield, from the video duration and frame rate, for a
    /// progress bar. `None` in `Keyframes` mode (the GOP length is not known up front) or when
    /// the container states no duration or rate.
    pub fn estimated_frames(&self) -> Option<u64> {
        let seconds = self.video_duration_ns? as f64 / 1e9;
        let fps = self.fps?;
        match self.mode {
            DecodeMode::All => Some((seconds * fps).round() as u64),
            DecodeMode::SampleFps(n) => Some((seconds * fps.min(f64::from(n))).ceil() as u64),
            DecodeMode::Keyframes => None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pauses the pipeline until the first frame reached the appsink, watching the bus: an error
    /// posted meanwhile (type not found, no video, unreadable) fails the open.
    fn preroll(&mut self) -> Result<(), DecodeError> {
        if self.pipeline.set_state(gst::State::Paused).is_err() {
            return Err(self.open_error("the pipeline did not start"));
        }
        let deadline = Instant::now() + OPEN_TIMEOUT;
        loop {
            if let Some(error) = wait_bus_error(&self.bus, gst::ClockTime::from_mseconds(50)) {
                self.pending_error = Some(error);
                return Err(self.open_error("error while opening"));
            }
            let (result, current, _) = self.pipeline.state(gst::ClockTime::ZERO);
            match result {
                Err(_) => return Err(self.open_error("the pipeline did not start")),
                Ok(gst::StateChangeSuccess::Success | gst::StateChangeSuccess::NoPreroll)
                    if current == gst::State::Paused =>
                {
                    break
                }
                Ok(_) => {}
            }
            if Instant::now() > deadline {
                return Err(DecodeError::Stalled {
                    path: self.path.clone(),
                    seconds: OPEN_TIMEOUT.as_secs(),
                });
            }
        }
        if !self.probe.video_linked.load(Ordering::Relaxed) {
            return Err(DecodeError::NotVideo {
                path: self.path.clone(),
                detail: "no video stream".into(),
            });
        }
        self.read_stream_info();
        self.pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| self.open_error("cannot start playing"))?;
        Ok(())
    }

    /// Turns the error from the bus into the most specific `DecodeError`.
    fn open_error(&mut self, fallback: &str) -> DecodeError {
        // A bin fails its state change as soon as a child errors, a moment before the error
        // message itself reaches the pipeline bus: give it that moment.
        let error = self
            .pending_error
            .take()
            .or_else(|| wait_bus_error(&self.bus, gst::ClockTime::from_seconds(1)));
        let Some((err, text)) = error else {
            return DecodeError::Stream {
                context: self.path.display().to_string(),
                message: fallback.to_owned(),
            };
        };
        let stream_problem = err
            .kind::<gst::StreamError>()
            .is_some_and(|k| !matches!(k, gst::StreamError::Failed | gst::StreamError::Decode));
        if stream_problem {
            DecodeError::NotVideo {
                path: self.path.clone(),
                detail: text,
            }
        } else {
            DecodeError::Stream {
                context: self.path.display().to_string(),
                message: text,
            }
        }
    }

    /// Reads the video track's duration and frame rate (from the parser's output pad, so a longer
    /// audio track does not count).
    fn read_stream_info(&mut self) {
        let Some(pad) = self.appsink.static_pad("sink") else {
            return;
        };
        let video_pad = self
            .parsebin
            .src_pads()
            .into_iter()
            .find(|p| p.peer().is_some() && is_video(p));
        self.video_duration_ns = video_pad
            .as_ref()
            .and_then(|p| p.query_duration::<gst::ClockTime>())
            .or_else(|| self.pipeline.query_duration::<gst::ClockTime>())
            .map(|d| d.nseconds());
        let rate = |caps: gst::Caps| {
            let s = caps.structure(0)?;
            let f = s.get::<gst::Fraction>("framerate").ok()?;
            (f.numer() > 0 && f.denom() > 0).then(|| f64::from(f.numer()) / f64::from(f.denom()))
        };
        self.fps = video_pad
            .and_then(|p| p.current_caps())
            .and_then(rate)
            .or_else(|| pad.current_caps().and_then(rate));
        debug!(path = %self.path.display(), duration_ns = ?self.video_duration_ns, fps = ?self.fps, "opened video file");
    }

    fn frame_from(&mut self, sample: &gst::Sample) -> Option<Result<DecodedFrame, DecodeError>> {
        let index_by_order = self.decoded;
        self.decoded += 1;
        let pts_ns = sample.buffer().and_then(|b| b.pts()).map(|t| t.nseconds());
        let frame_index = match (self.mode, pts_ns) {
            (DecodeMode::Keyframes, Some(pts)) => {
                self.keyframe_position(pts).unwrap_or(index_by_order)
            }
            _ => index_by_order,
        };
        let pts_90k = match pts_ns {
            Some(ns) => ns_to_ticks(ns),
            None => {
                let fps = self.fps.unwrap_or(FALLBACK_FPS);
                (frame_index as f64 * TICKS_PER_SECOND as f64 / fps).round() as i64
            }
        };
        if !self.sampler.accept(pts_90k) {
            return None;
        }
        let image = match sample_to_rgb(sample) {
            Ok(image) => image,
            Err(message) => {
                return Some(Err(DecodeError::Frame {
                    context: self.path.display().to_string(),
                    frame_index,
                    message,
                }))
            }
        };
        let (source_width, source_height) = self.source_size.get();
        Some(Ok(DecodedFrame {
            image,
            source_width,
            source_height,
            pts_90k,
            frame_index,
            wall_time: None,
        }))
    }

    fn keyframe_position(&self, pts_ns: u64) -> Option<u64> {
        let mut table = self
            .probe
            .keyframe_index
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let pos = table.iter().position(|(pts, _)| *pts == pts_ns)?;
        let (_, index) = table.remove(pos)?;
        table.retain(|(pts, _)| *pts > pts_ns);
        Some(index)
    }

    fn end_of_stream(&mut self) -> Option<Result<DecodedFrame, DecodeError>> {
        self.done = true;
        if let Some(err) = self.runtime_error() {
            return Some(Err(err));
        }
        let end = self.probe.video_end_ns.load(Ordering::Relaxed);
        match self.video_duration_ns {
            Some(duration) if end > 0 && end + TRUNCATION_SLACK_NS < duration => {
                Some(Err(DecodeError::Truncated {
                    path: self.path.clone(),
                    decoded_until_s: end as f64 / 1e9,
                    duration_s: duration as f64 / 1e9,
                }))
            }
            _ => None,
        }
    }

    fn runtime_error(&self) -> Option<DecodeError> {
        pop_bus_error(&self.bus).map(|(_, message)| DecodeError::Stream {
            context: self.path.display().to_string(),
            message,
        })
    }
}

impl Iterator for FileDecoder {
    type Item = Result<DecodedFrame, DecodeError>;

    /// Yields frames in presentation order. After the last frame: `None` at a clean end; one
    /// `Err` (then `None`) when the pipeline failed or the video ends before its stated duration.
    fn next(&mut self) -> Option<Self::Item> {
        let mut last_progress = Instant::now();
        while !self.done {
            let timeout = gst::ClockTime::from_mseconds(PULL_SLICE.as_millis() as u64);
            if let Some(sample) = self.appsink.try_pull_sample(timeout) {
                last_progress = Instant::now();
                match self.frame_from(&sample) {
                    Some(item) => return Some(item),
                    None => continue,
                }
            }
            if self.appsink.is_eos() {
                return self.end_of_stream();
            }
            if let Some(err) = self.runtime_error() {
                self.done = true;
                return Some(Err(err));
            }
            if last_progress.elapsed() > STALL_TIMEOUT {
                self.done = true;
                return Some(Err(DecodeError::Stalled {
                    path: self.path.clone(),
                    seconds: STALL_TIMEOUT.as_secs(),
                }));
            }
        }
        None
    }
}

impl Drop for FileDecoder {
    fn drop(&mut self) {
        if let Err(e) = self.pipeline.set_state(gst::State::Null) {
            debug!(path = %self.path.display(), error = %e, "cannot stop file pipeline");
        }
    }
}

fn is_video(pad: &gst::Pad) -> bool {
    pad.current_caps()
        .or_else(|| Some(pad.query_caps(None)))
        .and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/")))
        .unwrap_or(false)
}

/// Links the first video pad parsebin exposes to a decoder and the output tail; every other pad
/// goes to a fakesink so demuxers never stall on an unlinked audio pad.
fn connect_parsebin(
    parsebin: &gst::Element,
    pipeline: &gst::Pipeline,
    scale: &gst::Element,
    mode: DecodeMode,
    probe: &Arc<ProbeState>,
) {
    let pipeline_weak = pipeline.downgrade();
    let scale_weak = scale.downgrade();
    let probe_state = Arc::clone(probe);
    parsebin.connect_pad_added(move |parsebin, pad| {
        let (Some(pipeline), Some(scale)) = (pipeline_weak.upgrade(), scale_weak.upgrade()) else {
            return;
        };
        let take_video = is_video(pad) && !probe_state.video_linked.load(Ordering::Relaxed);
        let result = if take_video {
            link_video(&pipeline, pad, &scale, mode, &probe_state)
        } else {
            watch_for_missing_video(parsebin, pad, &probe_state);
            link_fakesink(&pipeline, pad)
        };
        if let Err(message) = result {
            gst::element_error!(parsebin, gst::StreamError::Failed, ("{}", message));
        }
    });
}

/// parsebin exposes all pads of a file together before any data flows (and, in 1.22, never emits
/// no-more-pads), so when the first data reaches a non-video pad without a video pad linked, the
/// file has no video.
fn watch_for_missing_video(parsebin: &gst::Element, pad: &gst::Pad, probe: &Arc<ProbeState>) {
    let probe = Arc::clone(probe);
    let parsebin = parsebin.downgrade();
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            let is_data = info.buffer().is_some()
                || info
                    .event()
                    .is_some_and(|e| e.type_() == gst::EventType::Eos);
            if !is_data {
                return gst::PadProbeReturn::Ok;
            }
            if !probe.video_linked.load(Ordering::Relaxed) {
                if let Some(parsebin) = parsebin.upgrade() {
                    gst::element_error!(
                        parsebin,
                        gst::StreamError::WrongType,
                        ("no video stream in file")
                    );
                }
            }
            gst::PadProbeReturn::Remove
        },
    );
}

fn link_video(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    scale: &gst::Element,
    mode: DecodeMode,
    probe: &Arc<ProbeState>,
) -> Result<(), String> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let name = caps
        .structure(0)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    let decoder = match name.as_str() {
        "video/x-h264" => "avdec_h264",
        "video/x-h265" => "avdec_h265",
        // Other codecs are rare in our footage; let GStreamer pick a decoder.
        _ => "decodebin",
    };
    let dec = gst::ElementFactory::make(decoder)
        .build()
        .map_err(|e| format!("cannot create {decoder} for {name}: {e}"))?;
    if decoder != "decodebin" {
        dec.set_property("max-threads", 1i32);
    }
    pipeline.add(&dec).map_err(|e| e.to_string())?;
    if decoder == "decodebin" {
        let scale_weak = scale.downgrade();
        dec.connect_pad_added(move |_, src| {
            if let Some(sink) = scale_weak.upgrade().and_then(|s| s.static_pad("sink")) {
                if !sink.is_linked() {
                    let _ = src.link(&sink);
                }
            }
        });
    } else {
        dec.link(scale).map_err(|e| e.to_string())?;
    }
    dec.sync_state_with_parent().map_err(|e| e.to_string())?;
    let sink = dec.static_pad("sink").ok_or("decoder without sink pad")?;
    install_probe(pad, mode, probe);
    pad.link(&sink)
        .map_err(|e| format!("cannot link {name} to {decoder}: {e:?}"))?;
    probe.video_linked.store(true, Ordering::Relaxed);
    Ok(())
}

/// Counts compressed frames and, in `Keyframes` mode, drops every delta frame before the decoder.
fn install_probe(pad: &gst::Pad, mode: DecodeMode, probe: &Arc<ProbeState>) {
    let probe = Arc::clone(probe);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(buffer) = info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let position = probe.frames_seen.fetch_add(1, Ordering::Relaxed);
        if let Some(pts) = buffer.pts() {
            let end = pts.nseconds() + buffer.duration().map_or(0, |d| d.nseconds());
            probe.video_end_ns.fetch_max(end, Ordering::Relaxed);
        }
        if mode != DecodeMode::Keyframes {
            return gst::PadProbeReturn::Ok;
        }
        if buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) {
            return gst::PadProbeReturn::Drop;
        }
        if let Some(pts) = buffer.pts() {
            let mut table = probe
                .keyframe_index
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if table.len() >= 256 {
                table.pop_front();
            }
            table.push_back((pts.nseconds(), position));
        }
        gst::PadProbeReturn::Ok
    });
}

fn link_fakesink(pipeline: &gst::Pipeline, pad: &gst::Pad) -> Result<(), String> {
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .property("async", false)
        .build()
        .map_err(|e| e.to_string())?;
    pipeline.add(&sink).map_err(|e| e.to_string())?;
    sink.sync_state_with_parent().map_err(|e| e.to_string())?;
    let sink_pad = sink.static_pad("sink").ok_or("fakesink without sink pad")?;
    pad.link(&sink_pad)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}
