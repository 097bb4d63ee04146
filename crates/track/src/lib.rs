//! Per-camera tracking, pure logic: time is passed in, nothing here does I/O.
//!
//! - Plates ([`PlateTracker`]): associates plate observations across frames (box overlap plus
//!   text similarity) and, when a vehicle pass ends, elects one text by a confidence-weighted vote.
//! - Vehicles ([`VehicleTracker`]): ByteTrack-style association of detector boxes (confident
//!   detections first, weak ones only to continue confirmed tracks) with motion prediction of box
//!   centre and size by elapsed time, and a score-weighted class vote per track.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod association;
mod class_vote;
mod motion;
mod similarity;
mod tracker;
mod vehicle_tracker;
mod vote;

pub use similarity::text_similarity;
pub use tracker::{FinishedTrack, PlateTracker, TrackedRead, TrackerParams};
pub use vehicle_tracker::{
    FinishedVehicle, TrackedVehicle, VehicleTracker, VehicleTrackerParams, VehicleUpdate,
};
pub use vote::{vote, VoteResult};
