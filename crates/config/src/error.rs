use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax or schema error at a position in the file (unknown key, wrong type...).
    #[error("{}:{line}:{column}: {message} (see docs/config.md)", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file parsed but a value is not acceptable.
    #[error("{}: {message} (see docs/config.md)", path.display())]
    Invalid { path: PathBuf, message: String },
}
