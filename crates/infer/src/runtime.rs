//! Loading the ONNX Runtime library and running one model behind a shareable handle.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::Tensor;

use crate::error::{InferError, Result};

/// The loaded library and the process-wide ORT environment every session is built in.
static RUNTIME: OnceLock<(PathBuf, Environment)> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

/// Loads the ONNX Runtime shared library and creates the environment, once per process.
///
/// `path` wins over `ORT_DYLIB_PATH`. Without either this fails instead of letting `ort` guess a
/// system path, because a wrong or missing library would otherwise panic inside `ort`.
/// Later calls return the library already loaded (a process can hold only one).
pub fn load_onnx_runtime(path: Option<&Path>) -> Result<PathBuf> {
    let _guard = LOADING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((loaded, _)) = RUNTIME.get() {
        return Ok(loaded.clone());
    }
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("ORT_DYLIB_PATH") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => return Err(InferError::RuntimeNotConfigured),
        },
    };
    let env = ort::init_from(&path)
        .map_err(|source| InferError::RuntimeLoad {
            path: path.clone(),
            reason: source.to_string(),
        })?
        .with_name("xl")
        .build()
        .map_err(|source| InferError::RuntimeLoad {
            path: path.clone(),
            reason: source.to_string(),
        })?;
    tracing::info!(path = %path.display(), "loaded ONNX Runtime");
    Ok(RUNTIME.get_or_init(|| (path, env)).0.clone())
}

fn environment() -> Result<&'static Environment> {
    RUNTIME
        .get()
        .map(|(_, env)| env)
        .ok_or(InferError::RuntimeNotConfigured)
}

/// A float32 output tensor copied out of the session.
#[derive(Debug, Clone)]
pub struct TensorOut {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// One ONNX model. `ort` needs `&mut Session` to run, so the session sits behind a mutex; give each
/// CPU worker its own model (1 intra-op thread each) rather than sharing one across workers.
pub struct OnnxModel {
    name: &'static str,
    path: PathBuf,
    output_names: Vec<String>,
    /// Name and shape (-1 for dynamic dimensions) of each input, in graph order.
    inputs: Vec<(String, Vec<i64>)>,
    /// The model's custom metadata (e.g. a recogniser's dictionary).
    metadata: BTreeMap<String, String>,
    session: Mutex<Session>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

impl OnnxModel {
    /// Builds a CPU session with full graph optimisation and `intra_threads` threads.
    /// [`load_onnx_runtime`] must have succeeded first.
    pub fn load(name: &'static str, path: &Path, intra_threads: usize) -> Result<Self> {
        let fail = |source: ort::Error| InferError::ModelLoad {
            model: name,
            path: path.to_path_buf(),
            source,
        };
        // `Level3` in this ort release means layout optimisation only, which ORT 1.22 rejects.
        let session = Session::builder(environment()?)
            .map_err(fail)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| fail(e.into()))?
            .with_intra_threads(intra_threads.max(1))
            .map_err(|e| fail(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| fail(e.into()))?
            .commit_from_file(path)
            .map_err(fail)?;
        let output_names = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let inputs = session
            .inputs()
            .iter()
            .map(|i| {
                let shape = i
                    .dtype()
                    .tensor_shape()
                    .map(|s| s.to_vec())
                    .unwrap_or_default();
                (i.name().to_string(), shape)
            })
            .collect();
        let metadata = session
            .metadata()
            .and_then(|m| {
                let keys = m.custom_keys()?;
                Ok(keys
                    .into_iter()
                    .filter_map(|k| m.custom(&k).map(|v| (k, v)))
                    .collect())
            })
            .map_err(fail)?;
        Ok(Self {
            name,
            path: path.to_path_buf(),
            output_names,
            inputs,
            metadata,
            session: Mutex::new(session),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the model on one NCHW float32 input and copies out the named outputs, in order
    /// (all outputs, in graph order, when `outputs` is empty).
    pub fn run(
        &self,
        input: &str,
        shape: [usize; 4],
        data: Vec<f32>,
        outputs: &[&str],
    ) -> Result<Vec<TensorOut>> {
        let run_err = |source: ort::Error| InferError::Run {
            model: self.name,
            shape: shape.to_vec(),
            source,
        };
        let tensor = Tensor::from_array((shape, data)).map_err(run_err)?;
        // A panic elsewhere while holding the lock leaves the session itself intact.
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let results = session
            .run(ort::inputs![input => tensor])
            .map_err(run_err)?;
        let all: Vec<&str> = self.output_names.iter().map(String::as_str).collect();
        let wanted = if outputs.is_empty() {
            &all[..]
        } else {
            outputs
        };
        wanted
            .iter()
            .map(|&name| {
                let bad = |reason: String| InferError::BadOutput {
                    model: self.name,
                    output: name.to_string(),
                    reason,
                };
                let value = results
                    .get(name)
                    .ok_or_else(|| bad("missing".to_string()))?;
                let (shape, data) = value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| bad(e.to_string()))?;
                Ok(TensorOut {
                    shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                    data: data.to_vec(),
                })
            })
            .collect()
    }

    /// Runs the model on one NCHW float32 input and returns its last output (the only one of
    /// the plate models).
    pub fn run_last(&self, input: &str, shape: [usize; 4], data: Vec<f32>) -> Result<TensorOut> {
        self.run(input, shape, data, &[])?
            .pop()
            .ok_or_else(|| InferError::BadOutput {
                model: self.name,
                output: "last".into(),
                reason: "no output".into(),
            })
    }

    /// Name and shape (-1 for dynamic dimensions) of each input, in graph order.
    pub fn inputs(&self) -> &[(String, Vec<i64>)] {
        &self.inputs
    }

    /// A custom metadata value of the model.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// Names of the model's outputs, in graph order.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }
}
