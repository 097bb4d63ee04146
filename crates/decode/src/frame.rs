use std::time::SystemTime;

use gstreamer as gst;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use image::RgbImage;

/// One decoded picture at the analysis size.
#[derive(Clone, Debug)]
pub struct DecodedFrame {
    /// The picture scaled (stretched, no letterbox) to the requested analysis size. Map a point
    /// back with `x * source_width / image.width()`, `y * source_height / image.height()`.
    pub image: RgbImage,
    pub source_width: u32,
    pub source_height: u32,
    /// Presentation time, 90 kHz. Live: as given to `StreamDecoder::push`. Files: from the
    /// container, or derived from the frame index when the stream carries no timestamps.
    pub pts_90k: i64,
    /// Position of this frame in the stream or file (see the crate docs for the exact rule).
    pub frame_index: u64,
    /// Wall-clock arrival time of the access unit (live only).
    pub wall_time: Option<SystemTime>,
}

/// Copies an RGB sample row by row (GStreamer pads rows to 4 bytes) into an `RgbImage`.
pub(crate) fn sample_to_rgb(sample: &gst::Sample) -> Result<RgbImage, String> {
    let caps = sample.caps().ok_or("sample without caps")?;
    let info =
        gst_video::VideoInfo::from_caps(caps).map_err(|e| format!("bad caps {caps}: {e}"))?;
    if info.format() != gst_video::VideoFormat::Rgb {
        return Err(format!("expected RGB, got {:?}", info.format()));
    }
    let buffer = sample.buffer().ok_or("sample without buffer")?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|e| format!("cannot map buffer: {e}"))?;
    let (width, height) = (info.width(), info.height());
    let row_bytes = width as usize * 3;
    let stride = usize::try_from(frame.plane_stride()[0]).map_err(|_| "negative stride")?;
    let data = frame
        .plane_data(0)
        .map_err(|e| format!("cannot read plane: {e}"))?;
    if stride < row_bytes || data.len() < stride * (height as usize - 1) + row_bytes {
        return Err(format!(
            "plane of {} bytes, stride {stride}, too small for {width}x{height}",
            data.len()
        ));
    }
    let mut pixels = Vec::with_capacity(row_bytes * height as usize);
    for row in data.chunks(stride).take(height as usize) {
        pixels.extend_from_slice(&row[..row_bytes]);
    }
    RgbImage::from_raw(width, height, pixels).ok_or_else(|| "pixel buffer size mismatch".into())
}
