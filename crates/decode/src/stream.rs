use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use tracing::{debug, warn};
use xl_schema::VideoCodec;

use crate::frame::{sample_to_rgb, DecodedFrame};
use crate::mode::{DecodeMode, Sampler};
use crate::pipeline::{make, output_tail, pipeline_error, pop_bus_error, SourceSize};
use crate::stats::{Counters, DecoderStats};
use crate::timeline::{ns_to_ticks, ticks_to_ns, LiveTimeline};
use crate::{init, DecodeError, FrameQueue};

/// Bytes of compressed video the decoder may fall behind by (several seconds of 1080p) before
/// access units are dropped instead of queued.
const MAX_BACKLOG_BYTES: u64 = 2 * 1024 * 1024;

/// Live decoder for one camera, fed with access units from RTSP:
/// `appsrc ! h26Xparse ! avdec_h26X max-threads=1 ! videoscale ! videoconvert ! RGB ! appsink`.
///
/// `push` never waits for the decoder. When the decoder is behind, access units are dropped until
/// the next keyframe (so no frame is decoded against missing references) and counted.
pub struct StreamDecoder {
    camera_id: String,
    mode: DecodeMode,
    pipeline: gst::Pipeline,
    appsrc: gst_app::AppSrc,
    input: Mutex<InputState>,
    shared: Arc<Shared>,
}

struct InputState {
    awaiting_keyframe: bool,
}

/// State touched both by `push` (caller thread) and by the appsink callback (streaming thread).
struct Shared {
    camera_id: String,
    timeline: Mutex<LiveTimeline>,
    sampler: Mutex<Sampler>,
    counters: Counters,
    source_size: SourceSize,
    output: Arc<FrameQueue<DecodedFrame>>,
}

impl StreamDecoder {
    pub fn new(
        camera_id: &str,
        codec: VideoCodec,
        width: u32,
        height: u32,
        mode: DecodeMode,
        output: Arc<FrameQueue<DecodedFrame>>,
    ) -> Result<Self, DecodeError> {
        init()?;
        let mode = mode.validate()?;
        if width == 0 || height == 0 {
            return Err(DecodeError::InvalidArgument(format!(
                "camera {camera_id}: analysis size {width}x{height}"
            )));
        }
        let context = format!("camera {camera_id}");
        let (caps_name, parser, decoder) = match codec {
            VideoCodec::H264 => ("video/x-h264", "h264parse", "avdec_h264"),
            VideoCodec::H265 => ("video/x-h265", "h265parse", "avdec_h265"),
        };
        let pipeline = gst::Pipeline::with_name(&format!("decode-{camera_id}"));
        let caps = gst::Caps::builder(caps_name)
            .field("stream-format", "byte-stream")
            .field("alignment", "au")
            .build();
        let appsrc = gst_app::AppSrc::builder()
            .caps(&caps)
            .format(gst::Format::Time)
            .is_live(true)
            .do_timestamp(false)
            .block(false)
            .max_bytes(MAX_BACKLOG_BYTES)
            // A safety net only: `push` checks the backlog itself so it can resume at a keyframe.
            .leaky_type(gst_app::AppLeakyType::Upstream)
            .build();
        let parse = make(parser, &context)?;
        let dec = make(decoder, &context)?;
        // One thread per decoder: capacity planning counts cameras per core.
        dec.set_property("max-threads", 1i32);
        pipeline
            .add_many([appsrc.upcast_ref(), &parse, &dec])
            .map_err(|e| pipeline_error(&context, e))?;
        let tail = output_tail(&pipeline, width, height, 2, &context)?;
        gst::Element::link_many([appsrc.upcast_ref(), &parse, &dec, &tail.scale])
            .map_err(|e| pipeline_error(&context, e))?;

        let shared = Arc::new(Shared {
            camera_id: camera_id.to_owned(),
            timeline: Mutex::new(LiveTimeline::default()),
            sampler: Mutex::new(Sampler::new(mode)),
            counters: Counters::default(),
            source_size: tail.source_size.clone(),
            output,
        });
        let callback_shared = Arc::clone(&shared);
        tail.appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    callback_shared.on_sample(&sample);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| pipeline_error(&context, format!("cannot start: {e}")))?;
        Ok(Self {
            camera_id: camera_id.to_owned(),
            mode,
            pipeline,
            appsrc,
            input: Mutex::new(InputState {
                awaiting_keyframe: true,
            }),
            shared,
        })
    }

    /// Queues one access unit (Annex B, parameter sets before keyframes) for decoding. Returns
    /// at once; an `Err` means the decoder could not be restarted after a pipeline error.
    pub fn push(
        &self,
        au: &[u8],
        pts_90k: i64,
        is_keyframe: bool,
        wall_time: SystemTime,
    ) -> Result<(), DecodeError> {
        let counters = &self.shared.counters;
        Counters::add(&counters.frames_in);
        let entry = lock(&self.shared.timeline).arrive(pts_90k, wall_time);
        let mut input = lock(&self.input);
        self.handle_bus(&mut input)?;

        if self.mode == DecodeMode::Keyframes && !is_keyframe {
            Counters::add(&counters.skipped_by_mode);
            return Ok(());
        }
        if input.awaiting_keyframe && !is_keyframe {
            Counters::add(&counters.dropped_input);
            return Ok(());
        }
        let backlog = self.appsrc.current_level_bytes();
        if backlog + au.len() as u64 > MAX_BACKLOG_BYTES {
            if !input.awaiting_keyframe {
                warn!(camera = %self.camera_id, backlog, "decoder behind; dropping until next keyframe");
            }
            input.awaiting_keyframe = true;
            Counters::add(&counters.dropped_input);
            return Ok(());
        }
        input.awaiting_keyframe = false;

        let mut buffer = gst::Buffer::from_slice(au.to_vec());
        if let Some(buf) = buffer.get_mut() {
            buf.set_pts(gst::ClockTime::from_nseconds(ticks_to_ns(
                entry.pipeline_pts,
            )));
            if !is_keyframe {
                buf.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
        }
        lock(&self.shared.timeline).forwarded(entry);
        if let Err(flow) = self.appsrc.push_buffer(buffer) {
            // Flushing/EOS means the pipeline stopped after an error; the bus says why.
            debug!(camera = %self.camera_id, ?flow, "appsrc refused a buffer");
            Counters::add(&counters.dropped_input);
            self.handle_bus(&mut input)?;
        }
        Ok(())
    }

    pub fn stats(&self) -> DecoderStats {
        self.shared.counters.snapshot()
    }

    pub fn camera_id(&self) -> &str {
        &self.camera_id
    }

    /// Signals the end of input and waits (up to `timeout`) until every queued access unit has
    /// been decoded and handed on. The decoder accepts no further input afterwards.
    pub fn finish(&self, timeout: Duration) -> Result<(), DecodeError> {
        let context = format!("camera {}", self.camera_id);
        self.appsrc
            .end_of_stream()
            .map_err(|e| pipeline_error(&context, format!("cannot end stream: {e:?}")))?;
        let bus = self
            .pipeline
            .bus()
            .ok_or_else(|| pipeline_error(&context, "pipeline without bus"))?;
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_nseconds(timeout.as_nanos().min(u128::from(u64::MAX)) as u64),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Eos(_)) => Ok(()),
            Some(gst::MessageView::Error(err)) => Err(DecodeError::Stream {
                context,
                message: err.error().to_string(),
            }),
            _ => Err(DecodeError::Stream {
                context,
                message: format!("not drained within {timeout:?}"),
            }),
        }
    }

    /// Counts pipeline errors and restarts the pipeline after one; decoding resumes at the next
    /// keyframe.
    fn handle_bus(&self, input: &mut InputState) -> Result<(), DecodeError> {
        let Some(bus) = self.pipeline.bus() else {
            return Ok(());
        };
        let mut failed = false;
        while let Some((_, text)) = pop_bus_error(&bus) {
            Counters::add(&self.shared.counters.errors);
            warn!(camera = %self.camera_id, error = %text, "decoder error; restarting at next keyframe");
            failed = true;
        }
        if !failed {
            return Ok(());
        }
        input.awaiting_keyframe = true;
        lock(&self.shared.timeline).clear_pending();
        let restart = self
            .pipeline
            .set_state(gst::State::Null)
            .and_then(|_| self.pipeline.set_state(gst::State::Playing));
        restart.map(|_| ()).map_err(|e| {
            warn!(camera = %self.camera_id, error = %e, "decoder restart failed");
            DecodeError::Closed {
                camera: self.camera_id.clone(),
            }
        })
    }
}

impl Drop for StreamDecoder {
    fn drop(&mut self) {
        if let Err(e) = self.pipeline.set_state(gst::State::Null) {
            warn!(camera = %self.camera_id, error = %e, "cannot stop decode pipeline");
        }
    }
}

impl Shared {
    fn on_sample(&self, sample: &gst::Sample) {
        Counters::add(&self.counters.frames_decoded);
        let decoded = self
            .counters
            .frames_decoded
            .load(std::sync::atomic::Ordering::Relaxed);
        let pipeline_pts = sample
            .buffer()
            .and_then(|b| b.pts())
            .map(|t| ns_to_ticks(t.nseconds()));
        let origin = pipeline_pts.and_then(|p| lock(&self.timeline).resolve(p));
        let sampling_pts = pipeline_pts.unwrap_or(0);
        if !lock(&self.sampler).accept(sampling_pts) {
            Counters::add(&self.counters.skipped_by_mode);
            return;
        }
        let frame_index = origin.map_or(decoded - 1, |o| o.frame_index);
        let image = match sample_to_rgb(sample) {
            Ok(image) => image,
            Err(message) => {
                Counters::add(&self.counters.errors);
                warn!(camera = %self.camera_id, frame = frame_index, error = %message, "cannot read decoded frame");
                return;
            }
        };
        let (source_width, source_height) = self.source_size.get();
        self.output.push(DecodedFrame {
            image,
            source_width,
            source_height,
            pts_90k: origin.map_or(sampling_pts, |o| o.pts_90k),
            frame_index,
            wall_time: origin.map(|o| o.wall_time),
        });
        Counters::add(&self.counters.frames_output);
    }
}

// The guarded data stays consistent even if a holder panicked, so a poisoned lock is usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
