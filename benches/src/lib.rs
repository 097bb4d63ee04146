//! What the benchmarks share; the benchmarks themselves are in benches/ and src/bin/.
use std::path::{Path, PathBuf};

pub mod store_events;

/// WIM intake for harnesses that run the API without pipelines: every record is refused.
pub struct NoWim;

impl xl_rules::WimIntake for NoWim {
    fn ingest(&self, _: xl_schema::WimRecord) -> Result<xl_rules::WimIngest, xl_rules::WimReject> {
        Err(xl_rules::WimReject::Invalid(
            "not part of this benchmark".into(),
        ))
    }
    fn is_ready(&self) -> bool {
        false
    }
}

/// The repository root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The real plate photographs (`$XL_PLATES_DEV`, else ../shared/data/plates-dev).
pub fn data_dir() -> PathBuf {
    std::env::var_os("XL_PLATES_DEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data/plates-dev"))
}

/// `$ORT_DYLIB_PATH`, else where `make setup` puts ONNX Runtime.
pub fn ort_library() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace().join(".cache/lib/libonnxruntime.so.1.22.1"),
    }
}
