use tracing_subscriber::EnvFilter;

/// Logs go to stderr (stdout carries results); `RUST_LOG` overrides the level. A log line that
/// cannot be written (stderr closed, e.g. `xl run 2>&1 | head -1`) is dropped: the subscriber
/// would otherwise report it with `eprintln!`, which panics on that same closed stderr.
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "info,retina=warn",
        1 => "debug,retina=info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_target(false)
        .compact()
        .init();
}
