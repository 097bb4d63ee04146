use tracing_subscriber::EnvFilter;

/// Logs go to stderr (stdout carries results); `RUST_LOG` overrides the level.
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
        .with_target(false)
        .compact()
        .init();
}
