//! Associating plate observations across frames into tracks (one per vehicle pass).
use std::collections::HashMap;

use xl_schema::plate::fits_plate;
use xl_schema::{BBox, PlateObservation};

use crate::{text_similarity, vote};

#[derive(Debug, Clone)]
pub struct TrackerParams {
    /// Minimum IoU between a track's predicted box and an observation.
    pub iou_threshold: f32,
    /// A track unseen for longer than this (seconds) has ended.
    pub max_gap_secs: f64,
    /// Tracks with fewer reads than this are discarded when they end.
    pub min_reads: usize,
    /// Text similarity that lets an observation join a nearby track even when boxes barely overlap
    /// (a fast vehicle at a low analysis rate moves more than a plate height between frames).
    pub text_similarity: f32,
    /// A character of the elected text needs more than this share of its position's votes;
    /// below it the character is reported unread (`?`). 0 elects the strongest guess always.
    pub min_char_agreement: f32,
}

impl Default for TrackerParams {
    fn default() -> Self {
        Self {
            iou_threshold: 0.1,
            max_gap_secs: 1.5,
            min_reads: 2,
            text_similarity: 0.7,
            min_char_agreement: 0.5,
        }
    }
}

/// One observation of a track together with the frame it came from (`P` is whatever the caller
/// needs to write evidence later, e.g. an `Arc` of the frame and its metadata).
#[derive(Debug, Clone)]
pub struct TrackedRead<P> {
    pub observation: PlateObservation,
    pub time: f64,
    pub frame: P,
}

/// A vehicle pass that has ended: its elected text and the read that best shows it.
#[derive(Debug, Clone)]
pub struct FinishedTrack<P> {
    pub track_id: u64,
    pub text: String,
    pub confidence: f32,
    /// The most confident read whose text equals the elected text (or the most confident read).
    pub best: TrackedRead<P>,
    pub reads: usize,
    pub first_time: f64,
    pub last_time: f64,
    /// The plate's box in its last observation, and its centre's velocity (pixels per second).
    pub last_box: BBox,
    pub velocity: (f32, f32),
}

impl<P> FinishedTrack<P> {
    /// Where the plate would be at `time` had it gone on moving as it did (its last box, shifted).
    pub fn predicted_box(&self, time: f64) -> BBox {
        shifted(&self.last_box, self.velocity, time - self.last_time)
    }
}

fn shifted(b: &BBox, velocity: (f32, f32), dt: f64) -> BBox {
    let (dx, dy) = (velocity.0 * dt as f32, velocity.1 * dt as f32);
    BBox::new(b.x1 + dx, b.y1 + dy, b.x2 + dx, b.y2 + dy)
}

/// Distinct texts whose best read (and frame) a track keeps for evidence; bounds memory.
const MAX_TEXTS_PER_TRACK: usize = 6;

struct Track<P> {
    id: u64,
    last_box: BBox,
    /// Box centre velocity in pixels per second.
    velocity: (f32, f32),
    first_time: f64,
    last_time: f64,
    reads: Vec<(String, f32)>,
    best_by_text: HashMap<String, TrackedRead<P>>,
}

impl<P> Track<P> {
    fn predicted_box(&self, time: f64) -> BBox {
        shifted(&self.last_box, self.velocity, time - self.last_time)
    }

    /// How well `obs` continues this track at `time`, or None when it cannot.
    fn affinity(&self, obs: &PlateObservation, time: f64, params: &TrackerParams) -> Option<f32> {
        let bbox = obs.corners.bbox();
        let iou = self.predicted_box(time).iou(&bbox);
        let similarity = self
            .reads
            .last()
            .map_or(0.0, |(text, _)| text_similarity(text, &obs.text));
        if iou >= params.iou_threshold {
            return Some(iou + 0.5 * similarity);
        }
        let (cx, cy) = self.predicted_box(time).center();
        let (ox, oy) = bbox.center();
        let reach = 2.0 * self.last_box.width().max(bbox.width());
        let near = (cx - ox).hypot(cy - oy) <= reach;
        (near && similarity >= params.text_similarity).then_some(0.5 * similarity)
    }

    fn add(&mut self, read: TrackedRead<P>) {
        let bbox = read.observation.corners.bbox();
        let dt = (read.time - self.last_time) as f32;
        if dt > 0.0 && !self.reads.is_empty() {
            let (px, py) = self.last_box.center();
            let (nx, ny) = bbox.center();
            let v = ((nx - px) / dt, (ny - py) / dt);
            // Smooth so one jittery box does not throw the prediction off.
            self.velocity = (
                0.5 * self.velocity.0 + 0.5 * v.0,
                0.5 * self.velocity.1 + 0.5 * v.1,
            );
        }
        self.last_box = bbox;
        self.last_time = read.time;
        let confidence = read.observation.text_confidence();
        let text = read.observation.text.clone();
        self.reads.push((text.clone(), confidence));
        let better = self
            .best_by_text
            .get(&text)
            .is_none_or(|b| b.observation.text_confidence() < confidence);
        if better {
            self.best_by_text.insert(text, read);
            if self.best_by_text.len() > MAX_TEXTS_PER_TRACK {
                let weakest = self
                    .best_by_text
                    .iter()
                    .min_by(|a, b| {
                        let ca = a.1.observation.text_confidence();
                        ca.total_cmp(&b.1.observation.text_confidence())
                    })
                    .map(|(t, _)| t.clone());
                if let Some(t) = weakest {
                    self.best_by_text.remove(&t);
                }
            }
        }
    }

    fn finish(mut self, min_char_agreement: f32) -> Option<FinishedTrack<P>> {
        let reads = self.reads.iter().map(|(t, c)| (t.as_str(), *c));
        let elected = vote(reads, min_char_agreement)?;
        let best = match self.best_by_text.remove(&elected.text) {
            Some(read) => read,
            // A partial text: the most confident read that agrees with what was elected.
            None => {
                let fits = |t: &str| fits_plate(&elected.text, t, usize::MAX);
                let confidence = |r: &TrackedRead<P>| r.observation.text_confidence();
                self.best_by_text
                    .into_iter()
                    .max_by(|(ta, a), (tb, b)| {
                        fits(ta)
                            .cmp(&fits(tb))
                            .then(confidence(a).total_cmp(&confidence(b)))
                    })?
                    .1
            }
        };
        Some(FinishedTrack {
            track_id: self.id,
            text: elected.text,
            confidence: elected.confidence,
            best,
            reads: self.reads.len(),
            first_time: self.first_time,
            last_time: self.last_time,
            last_box: self.last_box,
            velocity: self.velocity,
        })
    }
}

/// Tracks the plates of one camera. Feed it every analysed frame in time order.
pub struct PlateTracker<P> {
    params: TrackerParams,
    tracks: Vec<Track<P>>,
    next_id: u64,
}

impl<P: Clone> PlateTracker<P> {
    pub fn new(params: TrackerParams) -> Self {
        Self {
            params,
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    pub fn active_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Adds one analysed frame's observations (possibly none) at `time` seconds and returns the
    /// tracks that ended before it.
    pub fn update(
        &mut self,
        time: f64,
        observations: Vec<PlateObservation>,
        frame: P,
    ) -> Vec<FinishedTrack<P>> {
        let finished = self.expire(time);
        let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
        for (oi, obs) in observations.iter().enumerate() {
            for (ti, track) in self.tracks.iter().enumerate() {
                if let Some(score) = track.affinity(obs, time, &self.params) {
                    candidates.push((score, ti, oi));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut track_taken = vec![false; self.tracks.len()];
        let mut assigned: Vec<Option<usize>> = vec![None; observations.len()];
        for (_, ti, oi) in candidates {
            if !track_taken[ti] && assigned[oi].is_none() {
                track_taken[ti] = true;
                assigned[oi] = Some(ti);
            }
        }
        for (obs, slot) in observations.into_iter().zip(assigned) {
            let read = TrackedRead {
                observation: obs,
                time,
                frame: frame.clone(),
            };
            match slot {
                Some(ti) => self.tracks[ti].add(read),
                None => self.start_track(read),
            }
        }
        finished
    }

    /// Ends every track (end of file, shutdown) and returns those with enough reads.
    pub fn finish_all(&mut self) -> Vec<FinishedTrack<P>> {
        self.expire(f64::INFINITY)
    }

    fn start_track(&mut self, read: TrackedRead<P>) {
        let mut track = Track {
            id: self.next_id,
            last_box: read.observation.corners.bbox(),
            velocity: (0.0, 0.0),
            first_time: read.time,
            last_time: read.time,
            reads: Vec::new(),
            best_by_text: HashMap::new(),
        };
        self.next_id += 1;
        track.add(read);
        self.tracks.push(track);
    }

    fn expire(&mut self, now: f64) -> Vec<FinishedTrack<P>> {
        let (ended, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.tracks)
            .into_iter()
            .partition(|t| now - t.last_time > self.params.max_gap_secs);
        self.tracks = live;
        let (min_reads, agreement) = (self.params.min_reads, self.params.min_char_agreement);
        let mut finished: Vec<FinishedTrack<P>> = ended
            .into_iter()
            .filter(|t| t.reads.len() >= min_reads)
            .filter_map(|t| t.finish(agreement))
            .collect();
        finished.sort_by(|a, b| {
            a.first_time
                .total_cmp(&b.first_time)
                .then(a.track_id.cmp(&b.track_id))
        });
        finished
    }
}

#[cfg(test)]
mod tests {
    use xl_schema::{PlateColor, Quad};

    use super::*;

    fn obs(text: &str, x: f32, y: f32, w: f32, conf: f32) -> PlateObservation {
        let h = w / 3.0;
        PlateObservation {
            corners: Quad([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]),
            detection_score: 0.9,
            text: text.into(),
            char_confidences: vec![conf; text.chars().count()],
            color: PlateColor::Blue,
            double_layer: false,
        }
    }

    #[test]
    fn one_moving_plate_makes_one_event_with_the_voted_text() {
        let mut t = PlateTracker::new(TrackerParams::default());
        let mut done = Vec::new();
        // A plate moving 40 px down per frame at 5 fps, misread once.
        for i in 0..10 {
            let text = if i == 4 { "皖S12B45" } else { "皖S12345" };
            let time = i as f64 * 0.2;
            done.extend(t.update(
                time,
                vec![obs(text, 500.0, 100.0 + 40.0 * i as f32, 120.0, 0.9)],
                i,
            ));
        }
        assert!(done.is_empty(), "track still live");
        done.extend(t.update(5.0, vec![], 99));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].text, "皖S12345");
        assert_eq!(done[0].reads, 10);
        assert_ne!(
            done[0].best.frame, 4,
            "evidence shows a read of the elected text"
        );
    }

    #[test]
    fn an_unread_province_is_reported_as_such_with_evidence_that_agrees_with_the_rest() {
        let mut t = PlateTracker::new(TrackerParams::default());
        let reads = [
            ("皖G6NN34", 0.6),
            ("鲁G6NN34", 0.6),
            ("苏G6NN34", 0.55),
            // The most confident read has the wrong last character.
            ("浙G6NN35", 0.9),
        ];
        for (i, (text, conf)) in reads.into_iter().enumerate() {
            let y = 100.0 + 40.0 * i as f32;
            assert!(t
                .update(i as f64 * 0.2, vec![obs(text, 500.0, y, 120.0, conf)], i)
                .is_empty());
        }
        let done = t.update(5.0, vec![], 99);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].text, "?G6NN34");
        assert_ne!(
            done[0].best.frame, 3,
            "evidence shows a read that fits the text"
        );
    }

    #[test]
    fn two_plates_side_by_side_stay_separate() {
        let mut t = PlateTracker::new(TrackerParams::default());
        for i in 0..6 {
            let y = 100.0 + 30.0 * i as f32;
            let time = i as f64 * 0.2;
            t.update(
                time,
                vec![
                    obs("皖S11111", 100.0, y, 120.0, 0.9),
                    obs("苏A22222", 700.0, y, 120.0, 0.9),
                ],
                (),
            );
        }
        let mut done = t.finish_all();
        done.sort_by(|a, b| a.text.cmp(&b.text));
        let texts: Vec<_> = done.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["皖S11111", "苏A22222"]);
    }

    #[test]
    fn a_single_spurious_read_emits_nothing() {
        let mut t = PlateTracker::new(TrackerParams::default());
        t.update(0.0, vec![obs("皖S12345", 100.0, 100.0, 100.0, 0.9)], ());
        assert!(t.update(10.0, vec![], ()).is_empty());
        assert_eq!(t.active_tracks(), 0);
    }

    #[test]
    fn the_same_plate_after_a_long_gap_is_a_new_pass() {
        let mut t = PlateTracker::new(TrackerParams::default());
        let mut done = Vec::new();
        for i in 0..3 {
            done.extend(t.update(
                i as f64 * 0.2,
                vec![obs("皖S12345", 100.0, 100.0, 100.0, 0.9)],
                (),
            ));
        }
        for i in 0..3 {
            done.extend(t.update(
                30.0 + i as f64 * 0.2,
                vec![obs("皖S12345", 100.0, 100.0, 100.0, 0.9)],
                (),
            ));
        }
        done.extend(t.finish_all());
        assert_eq!(done.len(), 2);
        assert!(done[0].last_time < done[1].first_time);
    }

    #[test]
    fn a_big_jump_with_the_same_text_continues_the_track() {
        let mut t = PlateTracker::new(TrackerParams::default());
        t.update(0.0, vec![obs("皖S12345", 100.0, 100.0, 120.0, 0.9)], ());
        // Moved more than a plate height: boxes do not overlap, text agrees.
        t.update(0.2, vec![obs("皖S12345", 110.0, 190.0, 125.0, 0.9)], ());
        assert_eq!(t.active_tracks(), 1);
    }
}
