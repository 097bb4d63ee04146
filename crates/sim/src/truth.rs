//! Ground truth: for every loop iteration, one JSONL line per plate with the wall-clock interval
//! in which it is visible, written before that iteration starts playing.
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
use xl_schema::PlateColor;

use crate::scenario::Scenario;
use crate::SimError;

/// One line of the ground-truth JSONL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthRecord {
    /// Mount index i of rtsp://.../cam/i.
    pub camera: u32,
    pub plate: String,
    pub color: PlateColor,
    /// car | bus | truck
    pub vehicle_class: String,
    /// Display time of the first and last frame in which the plate is visible (RFC 3339, +08:00).
    pub visible_from: DateTime<FixedOffset>,
    pub visible_to: DateTime<FixedOffset>,
    /// Rows of plate characters: 2 for a double-layer plate (GA 36, 440x220: province and
    /// office letter above, the serial below). Left out for a single-row plate (1), so those
    /// lines read as before.
    #[serde(default = "single_row", skip_serializing_if = "is_single_row")]
    pub layers: u8,
}

fn single_row() -> u8 {
    1
}

fn is_single_row(layers: &u8) -> bool {
    *layers == 1
}

/// Display time of timeline frame `frame` (frame 0 at `t0`), exact to the nanosecond.
pub fn frame_time(t0: DateTime<FixedOffset>, fps: u32, frame: u64) -> DateTime<FixedOffset> {
    let nanos = (frame as u128 * 1_000_000_000 / fps as u128) as i64;
    t0 + Duration::nanoseconds(nanos)
}

/// Truth records of one loop iteration of all cameras, ordered by start time.
pub fn iteration_records(
    scenarios: &[Scenario],
    t0: DateTime<FixedOffset>,
    iteration: u64,
) -> Vec<TruthRecord> {
    let mut out: Vec<TruthRecord> = scenarios
        .iter()
        .flat_map(|s| {
            let base = iteration * s.frames as u64;
            s.vehicles.iter().filter_map(move |v| {
                let (a, b) = v.visible?;
                Some(TruthRecord {
                    camera: s.camera,
                    plate: v.plate.clone(),
                    color: v.color,
                    vehicle_class: v.class.as_str().to_string(),
                    visible_from: frame_time(t0, s.fps, base + a as u64),
                    visible_to: frame_time(t0, s.fps, base + b as u64),
                    layers: v.layers,
                })
            })
        })
        .collect();
    out.sort_by(|x, y| {
        x.visible_from
            .cmp(&y.visible_from)
            .then(x.camera.cmp(&y.camera))
    });
    out
}

pub struct TruthWriter {
    file: File,
    path: PathBuf,
}

impl TruthWriter {
    /// Truncates: a run's truth file describes that run only.
    pub fn create(path: &Path) -> Result<TruthWriter, SimError> {
        let io = |context, source| SimError::Io {
            context,
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io("creating truth dir", e))?;
        }
        let file = File::create(path).map_err(|e| io("creating truth file", e))?;
        Ok(TruthWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends records, one write (and so one flush) per line.
    pub fn write(&mut self, records: &[TruthRecord]) -> Result<(), SimError> {
        for r in records {
            let mut line = serde_json::to_vec(r).map_err(|e| SimError::Io {
                context: "serialising truth for",
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            line.push(b'\n');
            self.file
                .write_all(&line)
                .and_then(|()| self.file.flush())
                .map_err(|source| SimError::Io {
                    context: "appending truth to",
                    path: self.path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    pub fn sync(&self) {
        if let Err(e) = self.file.sync_data() {
            tracing::warn!(path = %self.path.display(), error = %e, "truth fsync failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::generate;

    #[test]
    fn intervals_follow_the_looped_timeline() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap();
        let s = vec![
            generate(1, 1, 640, 360, 25, 20),
            generate(1, 2, 640, 360, 25, 20),
        ];
        let r0 = iteration_records(&s, t0, 0);
        let r3 = iteration_records(&s, t0, 3);
        assert_eq!(r0.len(), r3.len());
        assert!(r0.len() >= 4);
        for (a, b) in r0.iter().zip(&r3) {
            assert_eq!(a.plate, b.plate);
            assert_eq!(b.visible_from - a.visible_from, Duration::seconds(60));
            assert!(a.visible_to > a.visible_from);
            assert!(a.visible_from >= t0 && a.visible_to < t0 + Duration::seconds(20));
        }
        assert_eq!(frame_time(t0, 25, 26), t0 + Duration::milliseconds(1040));
        let line = serde_json::to_string(&r0[0]).unwrap();
        assert!(line.contains("+08:00"), "{line}");
        let back: TruthRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r0[0]);
    }

    #[test]
    fn only_double_plates_carry_layers() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap();
        let s: Vec<_> = (1..=4)
            .map(|c| generate(12, c, 1280, 720, 25, 60))
            .collect();
        let records = iteration_records(&s, t0, 0);
        let double = records
            .iter()
            .find(|r| r.layers == 2)
            .expect("a double plate");
        let line = serde_json::to_string(double).unwrap();
        assert!(line.contains(r#""layers":2"#), "{line}");
        assert_eq!(serde_json::from_str::<TruthRecord>(&line).unwrap(), *double);
        assert_eq!(xl_eval::parse_truth(&line).unwrap()[0].plate, double.plate);
        let single = records.iter().find(|r| r.layers == 1).unwrap();
        let line = serde_json::to_string(single).unwrap();
        assert!(!line.contains("layers"), "{line}");
        assert_eq!(xl_eval::parse_truth(&line).unwrap().len(), 1);
        // Lines written before the field existed read as single-row plates.
        let old = r#"{"camera":1,"plate":"皖S12345","color":"blue","vehicle_class":"car","visible_from":"2026-11-29T10:00:00+08:00","visible_to":"2026-11-29T10:00:04+08:00"}"#;
        assert_eq!(serde_json::from_str::<TruthRecord>(old).unwrap().layers, 1);
    }
}
