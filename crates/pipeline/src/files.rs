//! Expanding re-analysis arguments (files and folders) into an ordered list of inputs.
use std::path::{Path, PathBuf};

use crate::PipelineError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Image,
    Video,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub kind: InputKind,
}

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png"];
const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "mkv", "mov", "avi", "ts", "h264", "264", "h265", "265", "hevc",
];

fn kind_of(path: &Path) -> Option<InputKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if IMAGE_EXTENSIONS.contains(&ext.as_str()) {
        Some(InputKind::Image)
    } else if VIDEO_EXTENSIONS.contains(&ext.as_str()) {
        Some(InputKind::Video)
    } else {
        None
    }
}

/// Files named explicitly must exist and have a known extension; folders are walked recursively
/// in name order and files of unknown kinds in them are skipped. The result is sorted per
/// argument, so output order does not depend on the file system.
pub fn collect_inputs(args: &[PathBuf]) -> Result<Vec<InputFile>, PipelineError> {
    let mut out = Vec::new();
    for arg in args {
        let meta = std::fs::metadata(arg).map_err(|e| PipelineError::Input {
            path: arg.clone(),
            message: format!("cannot read: {e}"),
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(arg, &mut found)?;
            found.sort();
            out.extend(
                found
                    .into_iter()
                    .filter_map(|path| kind_of(&path).map(|kind| InputFile { path, kind })),
            );
        } else {
            let kind = kind_of(arg).ok_or_else(|| PipelineError::Input {
                path: arg.clone(),
                message: format!(
                    "unsupported file type (expected {} or {})",
                    IMAGE_EXTENSIONS.join("/"),
                    VIDEO_EXTENSIONS.join("/")
                ),
            })?;
            out.push(InputFile {
                path: arg.clone(),
                kind,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PipelineError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PipelineError::Input {
        path: dir.to_path_buf(),
        message: format!("cannot list folder: {e}"),
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| PipelineError::Input {
            path: dir.to_path_buf(),
            message: format!("cannot list folder: {e}"),
        })?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_walked_in_order_and_unknown_files_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for f in ["b.jpg", "a.PNG", "notes.txt", "sub/c.mp4"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let got = collect_inputs(&[d.to_path_buf()]).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(d)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.PNG", "b.jpg", "sub/c.mp4"]);
        assert_eq!(got[2].kind, InputKind::Video);
    }

    #[test]
    fn explicit_unknown_or_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("notes.txt");
        std::fs::write(&txt, b"x").unwrap();
        assert!(collect_inputs(&[txt])
            .unwrap_err()
            .to_string()
            .contains("unsupported file type"));
        assert!(collect_inputs(&[dir.path().join("none.mp4")]).is_err());
    }
}
