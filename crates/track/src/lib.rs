//! Per-camera plate tracking: associates plate observations across frames (box overlap plus text
//! similarity) and, when a vehicle pass ends, elects one text by a confidence-weighted vote.
//! Pure logic: time is passed in, nothing here does I/O.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod similarity;
mod tracker;
mod vote;

pub use similarity::text_similarity;
pub use tracker::{FinishedTrack, PlateTracker, TrackedRead, TrackerParams};
pub use vote::{vote, VoteResult};
