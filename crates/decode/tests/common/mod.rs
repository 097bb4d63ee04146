//! Test clips generated once per test binary with ffmpeg under Cargo's target tmp dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Clips {
    pub dir: PathBuf,
}

impl Clips {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed for these tests");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const X264: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-g",
    "25",
    "-keyint_min",
    "25",
    "-sc_threshold",
    "0",
    "-pix_fmt",
    "yuv420p",
];

fn encode(out: &Path, source: &str, extra: &[&str]) {
    let mut args = vec!["-f", "lavfi", "-i", source, "-t", "4"];
    args.extend_from_slice(extra);
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
}

/// 320x240, 25 fps, 4 s (100 frames), a keyframe every 25 frames, in several containers.
pub fn clips() -> &'static Clips {
    static CLIPS: OnceLock<Clips> = OnceLock::new();
    CLIPS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("xl-decode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = "testsrc2=size=320x240:rate=25";
        let mut mp4 = X264.to_vec();
        mp4.extend_from_slice(&["-movflags", "+faststart"]);
        encode(&dir.join("clip.mp4"), src, &mp4);
        encode(&dir.join("moov_at_end.mp4"), src, X264);
        encode(&dir.join("clip.mkv"), src, X264);
        let mut raw = X264.to_vec();
        raw.extend_from_slice(&["-f", "h264"]);
        encode(&dir.join("clip.h264"), src, &raw);
        encode(
            &dir.join("clip.h265"),
            src,
            &[
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                "keyint=25:min-keyint=25:scenecut=0:log-level=error",
                "-pix_fmt",
                "yuv420p",
                "-f",
                "hevc",
            ],
        );
        // A flat colour, to check colour conversion: RGB (48, 96, 192).
        encode(
            &dir.join("blue.mp4"),
            "color=c=0x3060C0:size=320x240:rate=25",
            X264,
        );
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:a",
            "aac",
            dir.join("audio_only.mp4").to_str().unwrap(),
        ]);
        std::fs::write(
            dir.join("notes.mp4"),
            "this is a text file, not a video\n".repeat(50),
        )
        .unwrap();
        for (name, out) in [
            ("clip.mp4", "truncated.mp4"),
            ("moov_at_end.mp4", "truncated_moov_at_end.mp4"),
        ] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            std::fs::write(dir.join(out), &bytes[..bytes.len() / 2]).unwrap();
        }
        Clips { dir }
    })
}
