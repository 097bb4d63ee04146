//! Plate models on CPU: detector latency of the 640 and 320 HyperLPR3 detectors on 1280x720
//! frames, recogniser latency per plate, and end-to-end accuracy + time per scene on
//! plates-dev/ccpd for each detector, in the same process. If `python3` (or XL_REFERENCE_PYTHON) can import numpy, cv2 and onnxruntime, the
//! Python reference (benches/reference/plates_hyperlpr3_reference.py) runs on the same images in
//! the same command.
//!
//! `cargo bench -p xl-benches --bench plate_models` (XL_BENCH_ROUNDS: rounds, default 3;
//! XL_PLATES_DEV: data folder; ORT_DYLIB_PATH: ONNX Runtime library).

// A benchmark harness reports on stdout.
#![allow(clippy::print_stdout)]

use std::process::Command;
use std::time::Instant;
use xl_benches::{data_dir, ort_library, workspace};

use xl_infer::image::resize_rgb;
use xl_infer::{DecodeMode, PlateReader, PlateReaderConfig, RgbView};
use xl_schema::plate::plates_match;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median over `rounds` of the mean milliseconds per call of `f` over `items`.
fn time_ms<T>(rounds: usize, items: &[T], mut f: impl FnMut(&T)) -> f64 {
    median(
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                items.iter().for_each(&mut f);
                start.elapsed().as_secs_f64() * 1000.0 / items.len() as f64
            })
            .collect(),
    )
}

struct Scene {
    image: image::RgbImage,
    plate: String,
}

fn scenes() -> Vec<Scene> {
    let dir = data_dir().join("ccpd");
    let truth = std::fs::read_to_string(dir.join("truth.csv")).expect("ccpd/truth.csv");
    truth
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .map(|(file, plate)| Scene {
            image: image::open(dir.join(&file))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
                .to_rgb8(),
            plate,
        })
        .collect()
}

fn reader(detector: &str) -> PlateReader {
    let dir = workspace().join("models/plates");
    let mut config = PlateReaderConfig::from_model_dir(&dir);
    config.detector_model = dir.join(detector);
    PlateReader::load(&config, Some(&ort_library())).expect("models (run scripts/setup.sh)")
}

/// Exact reads (best-scored detection) and detected scenes.
fn accuracy(reader: &PlateReader, scenes: &[Scene]) -> (usize, usize) {
    scenes.iter().fold((0, 0), |(exact, found), s| {
        let obs = reader.read(RgbView::from(&s.image)).expect("read");
        let hit = obs.first().is_some_and(|o| plates_match(&o.text, &s.plate));
        (exact + hit as usize, found + !obs.is_empty() as usize)
    })
}

fn python_reference() {
    let script = workspace().join("benches/reference/plates_hyperlpr3_reference.py");
    let python = std::env::var("XL_REFERENCE_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import numpy, cv2, onnxruntime"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("python reference: skipped ({python} lacks numpy/cv2/onnxruntime; see benches/reference/README.md)");
        return;
    }
    match Command::new(&python)
        .arg(&script)
        .arg("--models")
        .arg(workspace().join("models/plates"))
        .arg("--data")
        .arg(data_dir())
        .output()
    {
        Ok(out) => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Err(e) => println!("python reference: failed to start: {e}"),
    }
}

fn main() {
    let rounds = std::env::var("XL_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3usize)
        .max(1);
    let scenes = scenes();
    let ours = reader("y5fu_640x_sim.onnx");
    let small = reader("y5fu_320x_sim.onnx");

    let frames: Vec<_> = scenes
        .iter()
        .take(8)
        .map(|s| resize_rgb(RgbView::from(&s.image), 1280, 720).expect("resize"))
        .collect();
    for (name, r) in [("640", &ours), ("320", &small)] {
        let ms = time_ms(rounds, &frames, |f| {
            r.detector().detect(f.view()).expect("detect");
        });
        println!("detector {name} on 1280x720 frames: {ms:.1} ms/frame (1 thread)");
    }

    let crops: Vec<_> = std::fs::read_dir(data_dir().join("crops/images"))
        .expect("crops/images")
        .filter_map(|e| image::open(e.ok()?.path()).ok())
        .take(50)
        .map(|i| i.to_rgb8())
        .collect();
    let rec = ours.recognizer();
    let ms = time_ms(rounds, &crops, |c| {
        rec.recognize(RgbView::from(c), DecodeMode::Grammar)
            .expect("recognise");
    });
    println!("recogniser + grammar decode: {ms:.2} ms/plate (1 thread)");

    let n = scenes.len();
    let mut base_ms = None;
    for (name, r) in [("640", ours), ("320", small)] {
        let (exact, found) = accuracy(&r, &scenes);
        let ms = time_ms(rounds, &scenes, |s| {
            r.read(RgbView::from(&s.image)).expect("read");
        });
        let base = *base_ms.get_or_insert(ms);
        println!("ccpd {name}: {exact}/{n} exact, {found}/{n} detected, {ms:.1} ms/scene ({:.2}x the 640 time)", ms / base);
    }
    python_reference();
}
