//! Event delivery to integrators: signed webhooks and NATS JetStream / MQTT sinks, fed from the
//! store's durable outbox with at-least-once delivery, per-camera order, retries with backoff,
//! a circuit breaker per endpoint and dead letters. See docs/hooks.md.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

pub mod backoff;
pub mod breaker;
mod dispatcher;
pub mod signing;
mod sink;
mod stats;
pub mod target;

pub use backoff::Backoff;
pub use dispatcher::{DispatchConfig, Dispatcher};
pub use sink::{Delivery, DeliveryError, Sink};
pub use stats::{EndpointSnapshot, EndpointStats, HookStats};
pub use target::{Target, TargetError};
