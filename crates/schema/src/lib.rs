//! Domain types and the event wire schema shared by every stage; no I/O.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod details;
mod event;
mod geometry;
pub mod plate;
mod vehicle;
mod video;
mod wim;

pub use event::{
    china_offset, Event, EventDetails, EventKind, Evidence, EvidenceKind, PlateInfo, Provenance,
    ReadRef, Source, SourceKind, VehicleInfo,
};
pub use geometry::{BBox, Quad};
pub use plate::{PlateColor, PlateObservation};
pub use vehicle::{VehicleClass, VehicleDetection};
pub use video::VideoCodec;
pub use wim::WimRecord;
