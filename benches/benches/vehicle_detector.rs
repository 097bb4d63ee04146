//! Vehicle detector (NanoDet COCO, 416x416 input) on CPU with ONE intra-op thread: the whole
//! `VehicleDetector::detect` on a 1280x720 and a 416x416 frame, and its parts: pre-processing
//! (stretch to 416x416 + BGR mean/std normalisation), the ONNX Runtime run alone, and the box
//! decoding + NMS alone.
//!
//! The image is /usr/share/darknet/data/dog.jpg (Debian package darknet) when present, else the
//! first plates-dev/ccpd photo, stretched to each frame size.
//!
//! `cargo bench -p xl-benches --bench vehicle_detector` (criterion; add e.g.
//! `-- --measurement-time 20` for steadier figures; XL_PLATES_DEV: data folder;
//! ORT_DYLIB_PATH: ONNX Runtime library).

// A benchmark harness reports on stdout.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;
use xl_benches::{data_dir, ort_library, workspace};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use xl_infer::image::resize_rgb;
use xl_infer::runtime::TensorOut;
use xl_infer::vehicle::{decode, LevelOutput};
use xl_infer::{
    load_onnx_runtime, OnnxModel, RgbBuf, RgbView, VehicleDetector, VehicleDetectorConfig,
};

const DARKNET_DOG: &str = "/usr/share/darknet/data/dog.jpg";

fn model_path() -> PathBuf {
    workspace().join("models/vehicles/nanodet_coco_416.onnx")
}

/// dog.jpg if the darknet package is installed, else the first CCPD photo (by file name).
fn test_image() -> (PathBuf, image::RgbImage) {
    let path = if Path::new(DARKNET_DOG).is_file() {
        PathBuf::from(DARKNET_DOG)
    } else {
        let dir = data_dir().join("ccpd/images");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (no {DARKNET_DOG} either)", dir.display()))
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg")))
            .collect();
        files.sort();
        files.into_iter().next().expect("a CCPD photo")
    };
    let image = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    (path, image)
}

/// The six raw outputs paired per stride by shape, as `VehicleDetector` pairs them.
fn levels<'a>(outs: &'a [TensorOut], size: u32) -> Vec<LevelOutput<'a>> {
    [8u32, 16, 32]
        .into_iter()
        .map(|stride| {
            let cells = (size / stride).pow(2) as usize;
            let find = |width: usize| {
                outs.iter()
                    .find(|t| t.shape.last() == Some(&width) && t.data.len() == cells * width)
                    .map(|t| t.data.as_slice())
                    .expect("an output of this stride")
            };
            LevelOutput {
                stride,
                scores: find(80),
                boxes: find(44),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    load_onnx_runtime(Some(&ort_library())).expect("ONNX Runtime (run scripts/setup.sh)");
    let config = VehicleDetectorConfig::default();
    let detector =
        VehicleDetector::load(&model_path(), config, 1).expect("vehicle model (1 thread)");
    let size = detector.input_size();
    // The same model in a bare session, to time the runtime without pre/post-processing.
    let raw = OnnxModel::load("vehicle_detector", &model_path(), 1).expect("vehicle model");
    let input_name = raw.inputs()[0].0.clone();

    let (path, image) = test_image();
    let frames: Vec<(String, RgbBuf)> = [(1280u32, 720u32), (size, size)]
        .into_iter()
        .map(|(w, h)| {
            let frame = resize_rgb(RgbView::from(&image), w, h).expect("resize");
            (format!("{w}x{h}"), frame)
        })
        .collect();
    println!(
        "image: {} ({}x{}), stretched to each frame size; model input {size}x{size}; 1 intra-op thread",
        path.display(),
        image.width(),
        image.height()
    );
    for (name, frame) in &frames {
        let found = detector.detect(frame.view()).expect("detect");
        let list: Vec<String> = found
            .iter()
            .map(|d| format!("{:?} {:.2}", d.class, d.score))
            .collect();
        println!("detections on {name}: [{}]", list.join(", "));
    }

    let mut group = c.benchmark_group("vehicle_detector");
    for (name, frame) in &frames {
        group.bench_function(format!("preprocess/{name}"), |b| {
            b.iter(|| {
                detector
                    .preprocess(black_box(frame.view()))
                    .expect("preprocess")
            })
        });
    }
    let input = detector.preprocess(frames[1].1.view()).expect("preprocess");
    let n = size as usize;
    group.bench_function("onnx_run", |b| {
        b.iter_batched(
            || input.clone(),
            |data| raw.run(&input_name, [1, 3, n, n], data, &[]).expect("run"),
            BatchSize::LargeInput,
        )
    });
    let outs = raw
        .run(&input_name, [1, 3, n, n], input.clone(), &[])
        .expect("run");
    let lv = levels(&outs, size);
    group.bench_function("decode_nms", |b| b.iter(|| decode(black_box(&lv), &config)));
    for (name, frame) in &frames {
        group.bench_function(format!("detect/{name}"), |b| {
            b.iter(|| detector.detect(black_box(frame.view())).expect("detect"))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    targets = bench
}
criterion_main!(benches);
