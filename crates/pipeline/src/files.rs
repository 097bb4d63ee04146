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

/// Decodes an image by its content, not its name: photo collections hold PNG files named `.jpg`.
pub fn read_image(path: &Path) -> Result<image::RgbImage, PipelineError> {
    let unreadable = |message: String| PipelineError::Input {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(format!("cannot read: {e}")))?;
    let format = match image::guess_format(&bytes) {
        Ok(f @ (image::ImageFormat::Jpeg | image::ImageFormat::Png)) => f,
        _ => {
            return Err(unreadable(
                "not a readable image: its content is neither JPEG nor PNG".into(),
            ))
        }
    };
    Ok(image::load_from_memory_with_format(&bytes, format)
        .map_err(|e| unreadable(format!("not a readable image: {e}")))?
        .to_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_decoded_by_content_whatever_their_extension() {
        let dir = tempfile::tempdir().unwrap();
        let img =
            image::RgbImage::from_fn(8, 4, |x, y| image::Rgb([x as u8 * 30, y as u8 * 60, 7]));
        let png_named_jpg = dir.path().join("a.jpg");
        img.save_with_format(&png_named_jpg, image::ImageFormat::Png)
            .unwrap();
        assert_eq!(read_image(&png_named_jpg).unwrap(), img);
        let jpg_named_png = dir.path().join("b.png");
        img.save_with_format(&jpg_named_png, image::ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(read_image(&jpg_named_png).unwrap().dimensions(), (8, 4));
        let text = dir.path().join("c.jpg");
        std::fs::write(&text, "plate list, not a photo").unwrap();
        let msg = read_image(&text).unwrap_err().to_string();
        assert!(
            msg.contains("c.jpg") && msg.contains("neither JPEG nor PNG"),
            "{msg}"
        );
    }

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
