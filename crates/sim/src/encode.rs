//! One-off encoding of a rendered clip into access units (appsrc ! x264enc/x265enc ! parse !
//! appsink), with a fixed 1 s GOP so the looped clip can be joined at any second.
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use xl_schema::VideoCodec;

use crate::scene_render::SceneRenderer;
use crate::SimError;

/// One encoded frame in Annex B byte-stream form; keyframes carry their parameter sets.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessUnit {
    pub key: bool,
    pub data: Bytes,
}

/// Target bitrate in kbit/s: 2 Mb/s at 720p H.264 (as measured in VIDEO.md), by pixel count.
fn bitrate_kbps(codec: VideoCodec, width: u32, height: u32) -> u32 {
    let base = 2000.0 * (width * height) as f64 / (1280.0 * 720.0);
    let k = if codec == VideoCodec::H265 { 0.7 } else { 1.0 };
    ((base * k) as u32).max(300)
}

/// The encoder part of the pipeline; it is also hashed into the cache key, so changing any
/// setting here invalidates cached clips.
pub fn encoder_launch(codec: VideoCodec, width: u32, height: u32, fps: u32) -> String {
    let kbps = bitrate_kbps(codec, width, height);
    match codec {
        VideoCodec::H264 => format!(
            "x264enc speed-preset=veryfast bitrate={kbps} key-int-max={fps} bframes=0 \
             option-string=scenecut=0 threads=2 ! video/x-h264,profile=high ! \
             h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au"
        ),
        VideoCodec::H265 => format!(
            "x265enc speed-preset=veryfast bitrate={kbps} key-int-max={fps} \
             option-string=\"scenecut=0:open-gop=0:bframes=0:repeat-headers=1:pools=2\" ! \
             video/x-h265,profile=main ! h265parse config-interval=-1 ! \
             video/x-h265,stream-format=byte-stream,alignment=au"
        ),
    }
}

fn gst_err(camera: u32, frame: u64, message: impl Into<String>) -> SimError {
    SimError::Encode {
        camera,
        frame,
        message: message.into(),
    }
}

/// Renders every frame of the clip and encodes it; returns one AU per frame.
pub fn encode_clip(
    renderer: &SceneRenderer<'_>,
    camera: u32,
    frames: u32,
    codec: VideoCodec,
    width: u32,
    height: u32,
    fps: u32,
) -> Result<Vec<AccessUnit>, SimError> {
    let launch = format!(
        "appsrc name=src format=time block=true max-bytes={} \
         caps=video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 ! {} ! \
         appsink name=sink sync=false",
        (width * height * 6) as u64,
        encoder_launch(codec, width, height, fps)
    );
    let pipeline = gst::parse::launch(&launch)
        .map_err(|e| gst_err(camera, 0, format!("building pipeline: {e}")))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| gst_err(camera, 0, "launch did not produce a pipeline"))?;
    let src = pipeline
        .by_name("src")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or_else(|| gst_err(camera, 0, "no appsrc"))?;
    let sink = pipeline
        .by_name("sink")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| gst_err(camera, 0, "no appsink"))?;
    let aus: Arc<Mutex<Vec<AccessUnit>>> =
        Arc::new(Mutex::new(Vec::with_capacity(frames as usize)));
    let out = Arc::clone(&aus);
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                let au = AccessUnit {
                    key: !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT),
                    data: Bytes::copy_from_slice(map.as_slice()),
                };
                out.lock().map_err(|_| gst::FlowError::Error)?.push(au);
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| gst_err(camera, 0, format!("starting encoder: {e}")))?;
    let bus = pipeline
        .bus()
        .ok_or_else(|| gst_err(camera, 0, "pipeline has no bus"))?;
    let result = push_frames(renderer, &src, &bus, camera, frames, fps)
        .and_then(|()| wait_eos(&bus, camera, frames as u64));
    let _ = pipeline.set_state(gst::State::Null);
    result?;
    let aus = std::mem::take(
        &mut *aus
            .lock()
            .map_err(|_| gst_err(camera, 0, "collector poisoned"))?,
    );
    validate(&aus, camera, frames, fps)?;
    Ok(aus)
}

fn bus_error(bus: &gst::Bus) -> Option<String> {
    bus.iter().find_map(|msg| match msg.view() {
        gst::MessageView::Error(e) => Some(format!("{} ({:?})", e.error(), e.debug())),
        _ => None,
    })
}

fn push_frames(
    renderer: &SceneRenderer<'_>,
    src: &gst_app::AppSrc,
    bus: &gst::Bus,
    camera: u32,
    frames: u32,
    fps: u32,
) -> Result<(), SimError> {
    for k in 0..frames {
        let frame = renderer.render(k);
        let mut buffer = gst::Buffer::from_mut_slice(frame.data);
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(
                k as u64 * 1_000_000_000 / fps as u64,
            ));
            b.set_duration(gst::ClockTime::from_nseconds(1_000_000_000 / fps as u64));
        }
        if let Err(e) = src.push_buffer(buffer) {
            let detail = bus_error(bus).unwrap_or_else(|| format!("{e:?}"));
            return Err(gst_err(camera, k as u64, detail));
        }
    }
    src.end_of_stream()
        .map_err(|e| gst_err(camera, frames as u64, format!("EOS: {e:?}")))?;
    Ok(())
}

fn wait_eos(bus: &gst::Bus, camera: u32, frames: u64) -> Result<(), SimError> {
    let deadline = gst::ClockTime::from_seconds(120);
    let msg = bus
        .timed_pop_filtered(deadline, &[gst::MessageType::Eos, gst::MessageType::Error])
        .ok_or_else(|| gst_err(camera, frames, "encoder did not finish within 120 s"))?;
    if let gst::MessageView::Error(e) = msg.view() {
        return Err(gst_err(
            camera,
            frames,
            format!("{} ({:?})", e.error(), e.debug()),
        ));
    }
    Ok(())
}

/// Looping and joining clients rely on exactly one AU per frame and IDR every `fps` frames.
fn validate(aus: &[AccessUnit], camera: u32, frames: u32, fps: u32) -> Result<(), SimError> {
    if aus.len() != frames as usize {
        return Err(gst_err(
            camera,
            aus.len() as u64,
            format!("encoder produced {} AUs for {frames} frames", aus.len()),
        ));
    }
    for (i, au) in aus.iter().enumerate() {
        if au.key != (i as u32).is_multiple_of(fps) {
            return Err(gst_err(
                camera,
                i as u64,
                format!("keyframe flag {} breaks the {fps}-frame GOP", au.key),
            ));
        }
    }
    Ok(())
}
