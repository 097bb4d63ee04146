//! The HTTP API: scoped event search, evidence, trajectories, cameras, live events, audit,
//! administration and weigh-in-motion intake, all from one endpoint table (`endpoints.rs`) that
//! also generates the OpenAPI document.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod admin;
mod auth;
pub mod endpoints;
mod events;
mod follow;
mod hooks;
mod live;
mod metrics;
mod problem;
mod review;
mod server;
mod tail;
pub mod tls;
pub mod web;
pub mod wim;

pub use auth::{Caller, RateLimits};
pub use follow::{follow_store, FollowOptions};
pub use problem::Problem;
pub use server::{router, serve, serve_tls, ApiDeps, ApiState, DEFAULT_RATE_PER_MINUTE};
pub use tail::{follow_wim_files, TailStats};
pub use wim::{parse_wim_json, WimParseError};
