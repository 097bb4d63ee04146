//! `xl reanalyze` on real photographs and on video files made from them.
mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use xl_schema::plate::plates_match;
use xl_schema::Event;

fn reanalyze(args: &[&std::ffi::OsStr], out: &Path) -> Vec<Event> {
    let o = run(xl()
        .args([
            "reanalyze",
            "--pipeline",
            "pipelines/plates.toml",
            "--start",
            "2026-11-29T08:00:00+08:00",
            "--out",
        ])
        .arg(out)
        .args(args));
    assert!(o.status.success(), "reanalyze failed: {}", stderr(&o));
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (file, plate, top of the plate box) per photograph.
fn ccpd_rows() -> Vec<(String, String, u32)> {
    let text = std::fs::read_to_string(shared_data().join("ccpd/truth.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].trim_start_matches("images/").to_string(),
                f[1].to_string(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

fn ccpd_truth() -> Vec<(String, String)> {
    ccpd_rows().into_iter().map(|(f, p, _)| (f, p)).collect()
}

#[test]
fn reads_real_ccpd_photographs_at_least_as_well_as_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let images = shared_data().join("ccpd/images");
    let events = reanalyze(&[images.as_os_str()], &dir.path().join("a.jsonl"));
    let mut by_file: HashMap<String, Vec<String>> = HashMap::new();
    for e in &events {
        let path = e.provenance.source.path.clone().unwrap();
        let name = Path::new(&path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        by_file
            .entry(name)
            .or_default()
            .push(e.plate.as_ref().unwrap().text.clone());
    }
    let truth = ccpd_truth();
    let exact = truth
        .iter()
        .filter(|(f, p)| {
            by_file
                .get(f)
                .is_some_and(|t| t.iter().any(|t| plates_match(t, p)))
        })
        .count();
    let detected = truth
        .iter()
        .filter(|(f, _)| by_file.contains_key(f))
        .count();
    let misses: Vec<_> = truth
        .iter()
        .filter(|(f, p)| {
            !by_file
                .get(f)
                .is_some_and(|t| t.iter().any(|t| plates_match(t, p)))
        })
        .map(|(f, p)| format!("{p} read as {:?}", by_file.get(f)))
        .collect();
    assert_eq!(truth.len(), 27);
    assert!(
        exact >= 26,
        "{exact}/27 exact, {detected}/27 detected; misses: {misses:#?}"
    );
    // Reads below the pipeline's text-confidence floor are dropped, so a photo may yield no
    // event; what is emitted must be grammatical.
    assert!(events
        .iter()
        .all(|e| xl_schema::plate::is_valid_plate(&e.plate.as_ref().unwrap().text)));

    // Identical input, identical output (ids included).
    let again = std::fs::read(dir.path().join("a.jsonl")).unwrap();
    reanalyze(&[images.as_os_str()], &dir.path().join("b.jsonl"));
    assert_eq!(
        again,
        std::fs::read(dir.path().join("b.jsonl")).unwrap(),
        "output differs between runs"
    );
}

#[test]
fn a_png_photograph_named_jpg_is_read_by_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let (file, plate, _) = ccpd_rows().into_iter().find(|r| r.1 == "皖AFL605").unwrap();
    let photo = image::open(shared_data().join("ccpd/images").join(&file)).unwrap();
    let disguised = dir.path().join("photo.jpg");
    photo
        .save_with_format(&disguised, image::ImageFormat::Png)
        .unwrap();
    let events = reanalyze(&[disguised.as_os_str()], &dir.path().join("a.jsonl"));
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|e| e.plate.as_ref().map(|p| p.text.as_str()))
        .collect();
    assert!(
        texts.iter().any(|t| plates_match(t, &plate)),
        "read {texts:?}, want {plate}"
    );
}

#[test]
fn video_files_in_each_container_give_one_event_per_plate_pass() {
    let dir = tempfile::tempdir().unwrap();
    // This test is about containers, not about the model: use a photograph the model reads
    // with a margin (its province character survives re-encoding).
    let (file, plate, top) = ccpd_rows().into_iter().find(|r| r.1 == "皖AFL605").unwrap();
    let crop_y = top.saturating_sub(300).min(1160 - 720);
    let image = shared_data().join("ccpd/images").join(&file);
    // A 3 s 1280x720 clip of the photograph (cropped around the plate and padded, not
    // stretched): one plate, visible throughout = one pass.
    let outputs = [
        ("clip.mp4", &["-c:v", "libx264", "-pix_fmt", "yuv420p"][..]),
        ("clip.mkv", &["-c:v", "libx264", "-pix_fmt", "yuv420p"][..]),
        (
            "clip.h264",
            &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "h264"][..],
        ),
    ];
    for (name, codec_args) in outputs {
        let path = dir.path().join(name);
        let ok = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-loop", "1", "-i"])
            .arg(&image)
            .args([
                "-t",
                "3",
                "-r",
                "25",
                "-vf",
                &format!("crop=720:720:0:{crop_y},pad=1280:720:280:0"),
            ])
            .args(codec_args)
            .arg(&path)
            .status()
            .unwrap();
        assert!(ok.success(), "ffmpeg could not make {name}");
        let events = reanalyze(
            &[path.as_os_str()],
            &dir.path().join(format!("{name}.jsonl")),
        );
        assert_eq!(events.len(), 1, "{name}: {events:#?}");
        let e = &events[0];
        assert!(
            plates_match(&e.plate.as_ref().unwrap().text, &plate),
            "{name}: read {:?}, truth {plate}",
            e.plate
        );
        assert_eq!(e.provenance.source.kind, xl_schema::SourceKind::File);
        assert!(
            e.ts.to_rfc3339().starts_with("2026-11-29T08:00:0"),
            "{}",
            e.ts
        );
    }
}
