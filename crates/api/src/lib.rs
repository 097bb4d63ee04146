//! The HTTP API. For now: weigh-in-motion intake (`POST /api/v1/wim`) and following WIM JSONL
//! files; the scoped event API and the command view build on the same router.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod problem;
mod server;
mod tail;
pub mod wim;

pub use problem::Problem;
pub use server::{router, serve, ApiState};
pub use tail::{follow_wim_files, TailStats};
pub use wim::{parse_wim_json, WimParseError};
