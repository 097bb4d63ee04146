//! Pieces shared by the live and the file pipelines: the scale/convert/appsink tail, source-size
//! tracking and bus error handling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use crate::DecodeError;

pub(crate) fn make(factory: &str, context: &str) -> Result<gst::Element, DecodeError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|e| DecodeError::Pipeline {
            context: context.to_owned(),
            message: format!("cannot create {factory}: {e}"),
        })
}

pub(crate) fn pipeline_error(context: &str, message: impl std::fmt::Display) -> DecodeError {
    DecodeError::Pipeline {
        context: context.to_owned(),
        message: message.to_string(),
    }
}

/// `videoscale ! videoconvert ! RGB WxH ! appsink`. Scaling happens before conversion because it
/// is ~1.8x cheaper on I420 than on RGB (VIDEO.md).
pub(crate) struct OutputTail {
    pub(crate) scale: gst::Element,
    pub(crate) appsink: gst_app::AppSink,
    pub(crate) source_size: SourceSize,
}

pub(crate) fn output_tail(
    pipeline: &gst::Pipeline,
    width: u32,
    height: u32,
    appsink_max_buffers: u32,
    context: &str,
) -> Result<OutputTail, DecodeError> {
    let scale = make("videoscale", context)?;
    // Stretch to the analysis size: callers map coordinates back with per-axis factors.
    scale.set_property("add-borders", false);
    let convert = make("videoconvert", context)?;
    let caps = gst::Caps::builder("video/x-raw")
        .field("format", "RGB")
        .field(
            "width",
            i32::try_from(width).map_err(|_| pipeline_error(context, "width too large"))?,
        )
        .field(
            "height",
            i32::try_from(height).map_err(|_| pipeline_error(context, "height too large"))?,
        )
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
        .build();
    let appsink = gst_app::AppSink::builder()
        .caps(&caps)
        .sync(false)
        .max_buffers(appsink_max_buffers)
        .drop(false)
        .enable_last_sample(false)
        .build();
    pipeline
        .add_many([&scale, &convert, appsink.upcast_ref()])
        .map_err(|e| pipeline_error(context, e))?;
    gst::Element::link_many([&scale, &convert, appsink.upcast_ref()])
        .map_err(|e| pipeline_error(context, e))?;
    let source_size = SourceSize::default();
    source_size.watch(&scale, context)?;
    Ok(OutputTail {
        scale,
        appsink,
        source_size,
    })
}

/// The decoded (pre-scale) picture size, read from caps events at the scaler's input. Caps travel
/// in order with the buffers on one streaming thread, so the value seen when a frame reaches the
/// appsink is the one that frame was decoded at.
#[derive(Clone, Default)]
pub(crate) struct SourceSize(Arc<AtomicU64>);

impl SourceSize {
    fn watch(&self, scale: &gst::Element, context: &str) -> Result<(), DecodeError> {
        let pad = scale
            .static_pad("sink")
            .ok_or_else(|| pipeline_error(context, "videoscale has no sink pad"))?;
        let size = Arc::clone(&self.0);
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::EventView::Caps(c)) = info.event().map(|e| e.view()) {
                if let Some(s) = c.caps().structure(0) {
                    let w = s.get::<i32>("width").unwrap_or(0).max(0) as u64;
                    let h = s.get::<i32>("height").unwrap_or(0).max(0) as u64;
                    size.store((w << 32) | h, Ordering::Relaxed);
                }
            }
            gst::PadProbeReturn::Ok
        });
        Ok(())
    }

    pub(crate) fn get(&self) -> (u32, u32) {
        let v = self.0.load(Ordering::Relaxed);
        ((v >> 32) as u32, v as u32)
    }
}

/// The first error message waiting on the bus, if any, as (GStreamer error, one-line text).
pub(crate) fn pop_bus_error(bus: &gst::Bus) -> Option<(gst::glib::Error, String)> {
    wait_bus_error(bus, gst::ClockTime::ZERO)
}

/// Like `pop_bus_error`, waiting up to `timeout` for an error to arrive.
pub(crate) fn wait_bus_error(
    bus: &gst::Bus,
    timeout: gst::ClockTime,
) -> Option<(gst::glib::Error, String)> {
    let msg = bus.timed_pop_filtered(timeout, &[gst::MessageType::Error])?;
    match msg.view() {
        gst::MessageView::Error(err) => {
            let source = msg
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_else(|| "pipeline".into());
            let debug = err
                .debug()
                .map(|d| {
                    let d = d.to_string();
                    // Keep the useful last line of GStreamer's multi-line debug string.
                    d.lines().last().unwrap_or_default().trim().to_owned()
                })
                .filter(|d| !d.is_empty());
            let text = match debug {
                Some(debug) => format!("{} ({source}: {debug})", err.error()),
                None => format!("{} ({source})", err.error()),
            };
            Some((err.error(), text))
        }
        _ => None,
    }
}
