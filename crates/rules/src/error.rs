//! Errors of rule construction: list files that fail to load and configs that fail to apply.
use std::path::PathBuf;

/// Why a rule could not be built. Every variant names what to fix: the file and line of a bad
/// list entry, or the id and field of a bad config entry.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A list file could not be opened or read.
    #[error("{}: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A list file was read but one of its lines is not valid.
    #[error("{file}:{line}: {message}")]
    Csv {
        /// The file name (or the name given to [`crate::Watchlist::from_reader`]).
        file: String,
        /// 1-based line in the file; 0 when the CSV reader could not tell.
        line: u64,
        message: String,
    },
    /// A config entry cannot be applied.
    #[error("{id}: {message}")]
    Config {
        /// The zone, station or count-line id (or the config section) at fault.
        id: String,
        message: String,
    },
}

impl RulesError {
    pub(crate) fn config(id: impl Into<String>, message: impl Into<String>) -> Self {
        RulesError::Config {
            id: id.into(),
            message: message.into(),
        }
    }
}
