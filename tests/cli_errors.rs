//! Bad input gets a one-line error on stderr, a non-zero exit and no panic.
mod common;

use std::path::Path;

use common::*;

fn assert_one_line_error(out: &std::process::Output, needle: &str) {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "expected failure, got success: {err}"
    );
    assert_ne!(out.status.code(), Some(101), "panicked: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("xl: error: "),
        "last line is not the error: {err}"
    );
    assert!(
        last.contains(needle),
        "error does not mention {needle:?}: {last}"
    );
}

fn pipeline_with_models(dir: &Path, detector: &Path) -> std::path::PathBuf {
    let recognizer = repo_root().join("models/plates/ch_PP-OCRv4_rec_infer.onnx");
    pipeline_with(dir, detector, &recognizer)
}

fn pipeline_with(dir: &Path, detector: &Path, recognizer: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo_root().join("pipelines/plates.toml"))
        .unwrap()
        .replace(
            "../models/plates/y5fu_640x_sim.onnx",
            detector.to_str().unwrap(),
        )
        .replace(
            "../models/plates/ch_PP-OCRv4_rec_infer.onnx",
            recognizer.to_str().unwrap(),
        );
    let path = dir.join("p.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `xl reanalyze` of one CCPD photograph with pipeline file `pipeline`.
fn reanalyze_a_photo_with(pipeline: &Path) -> std::process::Output {
    run(xl()
        .args(["reanalyze", "--pipeline"])
        .arg(pipeline)
        .arg(ccpd_image()))
}

fn ccpd_image() -> std::path::PathBuf {
    let dir = shared_data().join("ccpd/images");
    std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

#[test]
fn missing_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline_with_models(dir.path(), &dir.path().join("nope.onnx"));
    let out = reanalyze_a_photo_with(&p);
    assert_one_line_error(&out, "nope.onnx");
}

#[test]
fn corrupt_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("corrupt.onnx");
    std::fs::write(&bad, b"this is not an onnx model").unwrap();
    let p = pipeline_with_models(dir.path(), &bad);
    let out = reanalyze_a_photo_with(&p);
    assert_one_line_error(&out, "corrupt.onnx");
}

#[test]
fn a_model_in_the_wrong_role_is_refused_naming_the_file_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let plates = repo_root().join("models/plates");
    // The vehicle detector (square input, other outputs) as the plate detector.
    let vehicles = repo_root().join("models/vehicles/nanodet_coco_416.onnx");
    let p = pipeline_with_models(dir.path(), &vehicles);
    let out = reanalyze_a_photo_with(&p);
    assert_one_line_error(&out, "nanodet_coco_416.onnx");
    assert!(
        stderr(&out).contains("expected [1, N, 15]"),
        "{}",
        stderr(&out)
    );
    // The plate detector as the recogniser: no dictionary in its metadata.
    let detector = plates.join("y5fu_640x_sim.onnx");
    let p = pipeline_with(dir.path(), &detector, &detector);
    let out = reanalyze_a_photo_with(&p);
    assert_one_line_error(&out, "y5fu_640x_sim.onnx");
    assert!(
        stderr(&out).contains("'character' dictionary"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wrong_ort_library_path_is_a_clear_error() {
    let out = run(xl()
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .args(["reanalyze", "--pipeline", "pipelines/plates.toml"])
        .arg(ccpd_image()));
    assert_one_line_error(&out, "/nonexistent/libonnxruntime.so");
    // A file that exists but is not the library.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"not a library").unwrap();
    let out = run(xl()
        .env("ORT_DYLIB_PATH", &fake)
        .args(["reanalyze", "--pipeline", "pipelines/plates.toml"])
        .arg(ccpd_image()));
    assert_one_line_error(&out, "libonnxruntime.so");
}

#[test]
fn non_video_and_truncated_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("notes.mp4");
    std::fs::write(&fake, "just some text, not a video\n".repeat(100)).unwrap();
    let out = run(xl()
        .args(["reanalyze", "--pipeline", "pipelines/plates.toml"])
        .arg(&fake));
    assert_one_line_error(&out, "notes.mp4");

    let clip = dir.path().join("clip.mp4");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = std::fs::read(&clip).unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = run(xl()
        .args(["reanalyze", "--pipeline", "pipelines/plates.toml"])
        .arg(&truncated));
    assert_one_line_error(&out, "truncated.mp4");
}

#[test]
fn malformed_config_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("xl.toml");
    std::fs::write(
        &cfg,
        "[store]\nurl = \"sqlite://x.db\"\n[[cameras]]\nid = \"c1\"\nurll = \"rtsp://a:b@h/x\"\n",
    )
    .unwrap();
    let out = run(xl().args(["run", "--config"]).arg(&cfg));
    assert_one_line_error(&out, "xl.toml:5:1");
    assert!(!stderr(&out).contains("a:b@"), "credentials leaked");
    std::fs::write(&cfg, "[store\nurl=1").unwrap();
    let out = run(xl().args(["run", "--config"]).arg(&cfg));
    assert_one_line_error(&out, "xl.toml:1:");
    let out = run(xl()
        .args(["run", "--config"])
        .arg(dir.path().join("missing.toml")));
    assert_one_line_error(&out, "missing.toml");
}

#[test]
fn unreachable_camera_keeps_retrying_without_leaking_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens here
    let cfg = dir.path().join("xl.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\nurl = \"sqlite://{d}/xl.db\"\n[evidence]\nroot = \"{d}/ev\"\n[[cameras]]\nid = \"cam-x\"\nurl = \"rtsp://admin:s3cret@127.0.0.1:{port}/cam/1\"\npipeline = \"{p}\"\nlat = 30.9\nlon = 117.8\n",
            d = dir.path().display(),
            p = repo_root().join("pipelines/plates.toml").display()
        ),
    )
    .unwrap();
    let out = run(xl().args(["run", "--duration", "6", "--config"]).arg(&cfg));
    let err = stderr(&out);
    assert!(
        out.status.success(),
        "a camera that is down must not stop the process: {err}"
    );
    assert!(
        !err.contains("s3cret"),
        "credentials leaked into logs:\n{err}"
    );
    let status = run(xl()
        .args(["cameras", "status", "--format", "jsonl", "--store"])
        .arg(format!("sqlite://{}/xl.db", dir.path().display())));
    let text = stdout(&status);
    assert!(text.contains("cam-x"), "{text}");
    assert!(
        !text.contains("s3cret"),
        "credentials leaked into health: {text}"
    );
    let health: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(
        health["reconnects"].as_u64().unwrap_or(0) >= 1 || health["last_error"].is_string(),
        "{health}"
    );
}

#[test]
fn a_closed_stderr_neither_panics_nor_keeps_the_process_running() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let mut child = xl()
        .args(["sim", "--cameras", "1", "--width", "320", "--height", "180"])
        .args(["--clip-secs", "4", "--duration", "3", "--port", &port])
        .arg("--truth")
        .arg(dir.path().join("truth.jsonl"))
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one log line, then close our end, as `2>&1 | head -1` does.
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("xl sim --duration 3 still running 60 s after its stderr closed");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "exit {status:?} after stderr closed");
}

#[test]
fn a_mistyped_config_is_an_error_naming_the_file_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo/xl.toml");
    for args in [
        &["events", "query"][..],
        &["tokens", "create", "--user", "someone"][..],
        &["cameras", "list"][..],
    ] {
        let out = run(xl()
            .current_dir(dir.path())
            .args(args)
            .arg("--config")
            .arg(&typo));
        assert_one_line_error(&out, "typo/xl.toml");
        assert!(
            !dir.path().join("var").exists(),
            "{args:?} created a store in the current folder"
        );
    }
}
