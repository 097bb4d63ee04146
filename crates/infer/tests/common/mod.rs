//! Shared helpers: the workspace's models and ONNX Runtime, and the plates-dev data set.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

use xl_infer::{DecodeMode, PlateReader, PlateReaderConfig};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `ORT_DYLIB_PATH`, else the library scripts/setup.sh installs.
pub fn ort_library() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace().join(".cache/lib/libonnxruntime.so.1.22.1"),
    }
}

pub fn reader(decode: DecodeMode) -> PlateReader {
    let mut config = PlateReaderConfig::from_model_dir(&workspace().join("models/plates"));
    config.decode = decode;
    PlateReader::load(&config, Some(&ort_library()))
        .expect("plate models and ONNX Runtime (run scripts/setup.sh)")
}

pub fn data_dir() -> PathBuf {
    std::env::var_os("XL_PLATES_DEV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data/plates-dev"))
}

pub struct Scene {
    pub path: PathBuf,
    pub plate: String,
    pub bbox: [f32; 4],
    /// CCPD order: right-bottom, left-bottom, left-top, right-top.
    pub corners: [[f32; 2]; 4],
}

pub fn ccpd_scenes() -> Vec<Scene> {
    let dir = data_dir().join("ccpd");
    let text = std::fs::read_to_string(dir.join("truth.csv")).expect("ccpd/truth.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (head, corners) = line.split_once(",\"").expect("quoted corners");
            let f: Vec<&str> = head.split(',').collect();
            let num = |s: &str| s.parse::<f32>().expect("number");
            let pts: Vec<[f32; 2]> = corners
                .trim_end_matches('"')
                .split(';')
                .map(|p| {
                    let (x, y) = p.split_once(',').expect("x,y");
                    [num(x), num(y)]
                })
                .collect();
            Scene {
                path: dir.join(f[0]),
                plate: f[1].to_string(),
                bbox: [num(f[2]), num(f[3]), num(f[4]), num(f[5])],
                corners: [pts[0], pts[1], pts[2], pts[3]],
            }
        })
        .collect()
}

pub fn crops() -> Vec<(PathBuf, String)> {
    let dir = data_dir().join("crops");
    let text = std::fs::read_to_string(dir.join("truth.csv")).expect("crops/truth.csv");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(f, p)| (dir.join(f), p.to_string()))
        .collect()
}

pub fn load_rgb(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}
