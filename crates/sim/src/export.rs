//! Exporting the simulated deployment as recorded footage: each camera's looped clip muxed into
//! `cam-<i>.mp4` (H.264) covering `secs` from a given start, plus the world files with every WIM
//! record, so `xl reanalyze` can be scored against the same truth as the live pipeline.
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use xl_schema::VideoCodec;

use crate::truth::{iteration_records, TruthWriter};
use crate::world::camera_id;
use crate::world_files::{write_wim_all, write_world, WorldFiles};
use crate::{prepare_clips, SimConfig, SimError};

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct Export {
    pub videos: Vec<PathBuf>,
    pub world: WorldFiles,
    pub t0: DateTime<FixedOffset>,
}

/// Writes `dir/cam-<i>.mp4`, the world files (`dir/world/...`) and the plate truth
/// (`config.truth_path`) for `secs` seconds of the timeline starting at `t0`. Only H.264 is
/// exported.
pub fn export(
    config: &SimConfig,
    dir: &Path,
    secs: u32,
    t0: DateTime<FixedOffset>,
) -> Result<Export, SimError> {
    if config.codec != VideoCodec::H264 {
        return Err(SimError::InvalidConfig("export writes H.264 only".into()));
    }
    std::fs::create_dir_all(dir).map_err(|source| SimError::Io {
        context: "creating export dir",
        path: dir.to_path_buf(),
        source,
    })?;
    let prepared = prepare_clips(config)?;
    let frames = u64::from(secs) * u64::from(config.fps);
    let mut videos = Vec::new();
    for p in &prepared {
        let path = dir.join(format!("{}.mp4", camera_id(p.scenario.camera)));
        write_mp4(&path, &p.aus, frames, config.fps, p.scenario.camera)?;
        videos.push(path);
    }
    let world = WorldFiles {
        dir: dir.join("world"),
    };
    let scenarios: Vec<_> = prepared.into_iter().map(|p| p.scenario).collect();
    let end = t0 + chrono::Duration::seconds(i64::from(secs));
    // The plate truth of the footage, as `xl sim` writes it live: passes wholly inside it.
    let mut truth = TruthWriter::create(&config.truth_path)?;
    for iteration in 0..u64::from(secs.div_ceil(config.clip_secs.max(1))) {
        let passes: Vec<_> = iteration_records(&scenarios, t0, iteration)
            .into_iter()
            .filter(|r| r.visible_to < end)
            .collect();
        truth.write(&passes)?;
    }
    truth.sync();
    let records = write_world(&world, config.seed, &scenarios, t0, secs)?;
    let records: Vec<_> = records.into_iter().filter(|r| r.ts < end).collect();
    write_wim_all(&world, &records)?;
    Ok(Export { videos, world, t0 })
}

fn write_mp4(
    path: &Path,
    aus: &[crate::encode::AccessUnit],
    frames: u64,
    fps: u32,
    camera: u32,
) -> Result<(), SimError> {
    let err = |frame: u64, m: String| SimError::Encode {
        camera,
        frame,
        message: m,
    };
    let launch = format!(
        "appsrc name=src format=time caps=video/x-h264,stream-format=byte-stream,alignment=au,framerate={fps}/1 \
         ! h264parse ! mp4mux faststart=true ! filesink location=\"{}\"",
        path.display()
    );
    let pipeline = gst::parse::launch(&launch)
        .map_err(|e| err(0, format!("export pipeline: {e}")))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| err(0, "not a pipeline".into()))?;
    let src = pipeline
        .by_name("src")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or_else(|| err(0, "no appsrc".into()))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| err(0, format!("cannot start export: {e}")))?;
    let frame_ns = 1_000_000_000u64 / u64::from(fps);
    for k in 0..frames {
        let au = &aus[(k % aus.len() as u64) as usize];
        let mut buffer = gst::Buffer::from_slice(au.data.clone());
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(k * frame_ns));
            b.set_duration(gst::ClockTime::from_nseconds(frame_ns));
            if !au.key {
                b.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
        }
        src.push_buffer(buffer)
            .map_err(|e| err(k, format!("export push: {e:?}")))?;
    }
    src.end_of_stream()
        .map_err(|e| err(frames, format!("export eos: {e:?}")))?;
    let bus = pipeline.bus().ok_or_else(|| err(frames, "no bus".into()))?;
    let outcome = match bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        Some(m) => match m.view() {
            gst::MessageView::Eos(..) => Ok(()),
            gst::MessageView::Error(e) => Err(err(frames, format!("export failed: {}", e.error()))),
            _ => Ok(()),
        },
        None => Err(err(frames, "export timed out".into())),
    };
    let _ = pipeline.set_state(gst::State::Null);
    outcome
}
