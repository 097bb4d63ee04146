//! Enforcement rules as plain state machines: watchlists (布控), restricted zones (闯禁行),
//! overload by weigh-in-motion fusion (超限超载), obscured plates, cloned plates (套牌) and flow
//! counts. Time and observations are passed in; the only I/O is loading watchlist CSV files.
//!
//! Image coordinates are source-frame pixels (x right, y down); a vehicle's position is the
//! middle of its box's bottom edge. Local times are China time (UTC+8, no DST).
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod cloned;
mod config;
mod error;
mod flow;
pub mod geometry;
mod intake;
mod obscured;
mod overload;
mod time_window;
mod watchlist;
mod zone;

pub use cloned::{haversine_km, ClonedPair, ClonedPlateRule, Sighting};
pub use config::{
    default_axle_limits, AxleLimit, ClonedConfig, CountLineConfig, FlowConfig, LaneConfig,
    ObscuredConfig, OverloadConfig, RulesConfig, StationConfig, WatchlistConfig, ZoneConfig,
};
pub use error::RulesError;
pub use flow::{FlowBucket, FlowCounter};
pub use intake::WimIntake;
pub use obscured::{ObscuredRule, VehiclePassSummary};
pub use overload::{
    check_wim_values, excess_pct, limit_for_axles, OverloadFinding, PlateSighting, WimFuser,
    WimIngest, WimReject, WimStats,
};
pub use time_window::TimeWindow;
pub use watchlist::{WatchEntry, WatchHit, Watchlist};
pub use zone::{ZoneEntry, ZoneRule};
