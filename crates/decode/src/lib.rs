//! GStreamer decode of H.264/H.265 access units and video files to RGB frames at the analysis
//! size. The only crate touching GStreamer for decoding.
//!
//! * [`StreamDecoder`]: live, fed with access units from RTSP; frames go to a [`FrameQueue`].
//! * [`open_file`]: re-analysis of mp4/mkv/raw H.264/H.265 files, as an iterator.
//!
//! Frames are stretched to the analysis size (no letterbox). `frame_index` is the position of the
//! frame in its source: for live streams the arrival index of its access unit (decode order, which
//! is presentation order for streams without B-frames), for files the presentation-order count of
//! decoded frames, or in `Keyframes` mode the keyframe's position among all frames of the file.

mod error;
mod file;
mod frame;
mod init;
mod mode;
mod pipeline;
mod queue;
mod stats;
mod stream;
mod timeline;

pub use error::DecodeError;
pub use file::{open_file, FileDecoder};
pub use frame::DecodedFrame;
pub use init::init;
pub use mode::DecodeMode;
pub use queue::FrameQueue;
pub use stats::DecoderStats;
pub use stream::StreamDecoder;
