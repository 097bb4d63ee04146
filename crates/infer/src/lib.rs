//! ONNX Runtime sessions and the plate and vehicle models' pre/post-processing.
//!
//! Pure steps (letterbox, row decoding, NMS, perspective warp, CTC decoding, colour) take
//! plain slices and are tested without a runtime; [`PlateReader`] wires them to the two models.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod alphabet;
pub mod color;
pub mod ctc;
pub mod detector;
mod error;
pub mod grammar;
pub mod image;
pub mod nms;
mod reader;
pub mod recognizer;
pub mod runtime;
pub mod vehicle;
pub mod warp;

pub use color::PlateColorClassifier;
pub use detector::{DetectorConfig, PlateDetection, PlateDetector, PlateLayers};
pub use error::{InferError, Result};
pub use grammar::LengthPrior;
pub use image::{RgbBuf, RgbView};
pub use reader::{PlateReader, PlateReaderConfig, CLASSIFIER, DETECTOR_640, RECOGNIZER};
pub use recognizer::{DecodeMode, PlateRecognizer, PlateText};
pub use runtime::{load_onnx_runtime, OnnxModel};
pub use vehicle::{VehicleDetector, VehicleDetectorConfig};
