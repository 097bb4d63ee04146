//! Domain types and the event wire schema shared by every stage; no I/O.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod event;
mod geometry;
pub mod plate;
mod video;

pub use event::{
    china_offset, Event, EventKind, Evidence, EvidenceKind, PlateInfo, Provenance, Source,
    SourceKind, VehicleInfo,
};
pub use geometry::{BBox, Quad};
pub use plate::{PlateColor, PlateObservation};
pub use video::VideoCodec;
