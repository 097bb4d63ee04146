//! ByteTrack-style tracking of vehicle detections across analysed frames.
//!
//! Each [`VehicleTracker::update`]:
//! 1. ends tracks unmatched for longer than `max_lost_secs` (confirmed ones are reported finished,
//!    tentative ones vanish);
//! 2. matches detections scoring at least `high_score` against every live track's predicted box
//!    (confirmed, tentative and lost), by IoU, or by centre distance for fast vehicles;
//! 3. matches detections in `[low_score, high_score)` against tracks still unmatched (tentative
//!    ones included), at a stricter IoU. This is ByteTrack's second stage: a vehicle's score drops
//!    while it is partly hidden or cut by the frame edge, so a weak detection is trusted to
//!    continue a track but never to start one;
//! 4. drops tentative tracks that were not matched (a one-frame false positive never shows);
//! 5. starts a tentative track from each remaining detection scoring at least `new_track_score`,
//!    unless it duplicates a box already claimed in this frame, and gives it the weak detections
//!    that led up to it in the frames just before (`lead_in_secs`): a lorry or bus the detector
//!    scored 0.3-0.45 while it approached keeps those boxes, so a line it crossed then still counts.
//!
//! A track is confirmed, gets its id and is reported, once matched `min_hits` times. Ids are given
//! at confirmation, so the vehicles a user sees are numbered 1, 2, 3... without gaps.
use std::collections::VecDeque;

use xl_schema::{BBox, VehicleClass, VehicleDetection};

use crate::association::{affinity, greedy_assign, Candidate, Gate};
use crate::class_vote::ClassVotes;
use crate::motion::BoxMotion;

/// Tuning of [`VehicleTracker`]; the defaults suit the NanoDet COCO detector at ~5 analysed frames
/// per second on a checkpoint camera. Its scores are IoU-quality scores, lower than the objectness
/// scores ByteTrack's own 0.5 / 0.6 were chosen for: whole lorries and buses score 0.35-0.6.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VehicleTrackerParams {
    /// Detections scoring at least this are associated first and may start tracks.
    pub high_score: f32,
    /// Detections in `[low_score, high_score)` only continue tracks, on clear overlap (ByteTrack's
    /// second stage); detections below it are ignored.
    pub low_score: f32,
    /// An unmatched high-score detection starts a track only when it scores at least this.
    pub new_track_score: f32,
    /// Minimum IoU between a track's predicted box and a high-score detection.
    pub match_iou: f32,
    /// Minimum IoU between a confirmed track's predicted box and a low-score detection.
    pub low_match_iou: f32,
    /// A high-score detection overlapping the predicted box by less than `match_iou` still matches
    /// when its centre is within this fraction of the predicted box's diagonal from the predicted
    /// centre (and its size is similar, see `max_size_ratio`), ranked below every IoU match. A fast
    /// vehicle moves about a box height between frames at 5 fps. 0 turns this off.
    pub centre_gate: f32,
    /// For a centre-distance match, width and height must each be within this factor of the
    /// predicted ones.
    pub max_size_ratio: f32,
    /// An unmatched detection whose IoU with a box already claimed in the same frame is at least
    /// this does not start a track: with class-aware NMS the detector often reports one vehicle as
    /// both "car" and "truck" with nearly the same box.
    pub duplicate_iou: f32,
    /// Nor does one that holds a box already claimed in the same frame, or lies inside one, by
    /// at least this share of the smaller box: the detector sometimes reports a lorry twice, its
    /// body and a looser box around body, trailer and shadow, overlapping by less than
    /// `duplicate_iou`.
    pub duplicate_cover: f32,
    /// A track unmatched for longer than this (seconds) has finished.
    pub max_lost_secs: f64,
    /// A new track takes the unclaimed detections of the frames up to this long before it that
    /// chain back from its first box (each overlapping the next by at least `low_match_iou`, one
    /// per frame, gaps up to `max_lost_secs`), as earlier hits. NanoDet scores a big vehicle
    /// 0.3-0.45 for a second or more before its first confident frame; without these it starts
    /// past the count line.
    /// 0 turns this off.
    pub lead_in_secs: f64,
    /// A track is tentative until matched this many times; tentative tracks are never reported and,
    /// when unmatched in a frame, are discarded silently.
    pub min_hits: u32,
}

impl Default for VehicleTrackerParams {
    fn default() -> Self {
        Self {
            high_score: 0.4,
            low_score: 0.2,
            new_track_score: 0.45,
            match_iou: 0.2,
            low_match_iou: 0.4,
            centre_gate: 0.5,
            max_size_ratio: 1.6,
            duplicate_iou: 0.7,
            duplicate_cover: 0.9,
            max_lost_secs: 1.0,
            lead_in_secs: 2.0,
            min_hits: 2,
        }
    }
}

/// What one frame changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VehicleUpdate {
    /// Confirmed tracks matched in this frame, by ascending id.
    pub seen: Vec<TrackedVehicle>,
    /// Confirmed tracks that went unmatched for longer than `max_lost_secs` before this frame, by
    /// ascending id.
    pub finished: Vec<FinishedVehicle>,
}

/// A confirmed track as matched in the current frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedVehicle {
    pub track_id: u64,
    /// Score-weighted majority of the classes detected so far, this frame included.
    pub class: VehicleClass,
    /// The share of the score-weighted class vote that `class` holds: near 1 when the detector
    /// agrees with itself, near 1/2 for a vehicle it calls a car in some frames and a truck in
    /// others.
    pub class_share: f32,
    /// This frame's detected box (not the filtered one).
    pub bbox: BBox,
    /// This frame's detection score.
    pub score: f32,
    /// Frames matched so far, this one included.
    pub hits: u32,
    /// Time of the track's first detection (while it was still tentative).
    pub first_time: f64,
    /// True in the frame the track was confirmed (its first appearance here).
    pub newly_confirmed: bool,
    /// In the frame the track was confirmed: its earlier, tentative detections (time, box), oldest
    /// first, so that line crossings and zone entries made before confirmation are not lost.
    /// Empty in every later frame.
    pub tentative: Vec<(f64, BBox)>,
}

/// A confirmed track that has ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedVehicle {
    pub track_id: u64,
    /// Score-weighted majority of the classes detected over the whole track.
    pub class: VehicleClass,
    /// Frames matched.
    pub hits: u32,
    /// Times of the first and the last matched detection.
    pub first_time: f64,
    pub last_time: f64,
    pub first_bbox: BBox,
    pub last_bbox: BBox,
    /// Tallest matched box (pixels): how close the vehicle came to the camera.
    pub max_box_height: f32,
}

struct Track {
    /// Assigned at confirmation; None while tentative.
    id: Option<u64>,
    motion: BoxMotion,
    votes: ClassVotes,
    hits: u32,
    first_time: f64,
    last_time: f64,
    first_bbox: BBox,
    last_bbox: BBox,
    max_box_height: f32,
    /// Detections matched while tentative (time, box); emptied at confirmation.
    tentative: Vec<(f64, BBox)>,
}

impl Track {
    fn start(time: f64, det: &VehicleDetection) -> Self {
        let mut votes = ClassVotes::default();
        votes.add(det.class, det.score);
        Self {
            id: None,
            motion: BoxMotion::new(time, &det.bbox),
            votes,
            hits: 1,
            first_time: time,
            last_time: time,
            first_bbox: det.bbox,
            last_bbox: det.bbox,
            max_box_height: det.bbox.height(),
            tentative: Vec::new(),
        }
    }

    fn add(&mut self, time: f64, det: &VehicleDetection) {
        if self.id.is_none() {
            self.tentative.push((self.last_time, self.last_bbox));
        }
        self.motion.update(time, &det.bbox);
        self.votes.add(det.class, det.score);
        self.hits += 1;
        self.last_time = time;
        self.last_bbox = det.bbox;
        self.max_box_height = self.max_box_height.max(det.bbox.height());
    }

    fn seen(&mut self, id: u64, det: &VehicleDetection, newly_confirmed: bool) -> TrackedVehicle {
        let tentative = if newly_confirmed {
            std::mem::take(&mut self.tentative)
        } else {
            Vec::new()
        };
        let class = self.votes.winner();
        TrackedVehicle {
            track_id: id,
            class,
            class_share: self.votes.share(class),
            bbox: det.bbox,
            score: det.score,
            hits: self.hits,
            first_time: self.first_time,
            newly_confirmed,
            tentative,
        }
    }

    /// The report of this track's end, or None for a tentative track.
    fn finish(&self) -> Option<FinishedVehicle> {
        Some(FinishedVehicle {
            track_id: self.id?,
            class: self.votes.winner(),
            hits: self.hits,
            first_time: self.first_time,
            last_time: self.last_time,
            first_bbox: self.first_bbox,
            last_bbox: self.last_bbox,
            max_box_height: self.max_box_height,
        })
    }
}

/// The detections of one recent frame that no track took, kept to lead new tracks in.
struct UnclaimedFrame {
    time: f64,
    detections: Vec<VehicleDetection>,
}

/// Tracks the vehicles of one camera. Feed it every analysed frame in time order, including frames
/// without detections (they are what ends tracks).
pub struct VehicleTracker {
    params: VehicleTrackerParams,
    /// Live tracks in creation order (the tie-break order of association).
    tracks: Vec<Track>,
    /// The last `lead_in_secs` of frames, oldest first, each with its unclaimed detections.
    recent: VecDeque<UnclaimedFrame>,
    next_id: u64,
    /// Latest frame time seen; an earlier one is treated as this (times must not go back).
    latest: f64,
}

impl VehicleTracker {
    pub fn new(params: VehicleTrackerParams) -> Self {
        Self {
            params,
            tracks: Vec::new(),
            recent: VecDeque::new(),
            next_id: 1,
            latest: f64::NEG_INFINITY,
        }
    }

    /// Live tracks: confirmed, lost (not yet finished) and tentative.
    pub fn active_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Associates the detections of the frame at `time` (seconds, any origin); returns the confirmed
    /// tracks matched in this frame, with this frame's boxes, and the tracks that finished (lost for
    /// longer than `max_lost_secs`) before `time`. Detections with a non-finite or empty box are
    /// ignored, as is a frame with a non-finite time; a time earlier than a previous frame's is
    /// taken as that frame's.
    pub fn update(&mut self, time: f64, detections: &[VehicleDetection]) -> VehicleUpdate {
        if !time.is_finite() {
            return VehicleUpdate::default();
        }
        let time = time.max(self.latest);
        self.latest = time;
        let finished = self.expire(time);
        let p = self.params;

        let usable = |d: &VehicleDetection| usable_box(&d.bbox);
        let high: Vec<usize> = (0..detections.len())
            .filter(|&i| usable(&detections[i]) && detections[i].score >= p.high_score)
            .collect();
        let low: Vec<usize> = (0..detections.len())
            .filter(|&i| {
                let s = detections[i].score;
                usable(&detections[i]) && s >= p.low_score && s < p.high_score
            })
            .collect();
        let predicted: Vec<BBox> = self.tracks.iter().map(|t| t.motion.predict(time)).collect();
        let mut matched: Vec<Option<usize>> = vec![None; self.tracks.len()];

        // Stage 1: confident detections against every live track.
        let gate = Gate {
            min_iou: p.match_iou,
            centre_gate: p.centre_gate,
            max_size_ratio: p.max_size_ratio,
        };
        let all_tracks: Vec<usize> = (0..self.tracks.len()).collect();
        for (ti, di) in associate(&predicted, &all_tracks, detections, &high, &gate) {
            matched[ti] = Some(di);
        }

        // Stage 2: weak detections continue the tracks still unmatched, only on clear overlap.
        // Tentative tracks too: a COCO detector often scores a lorry cut by the frame edge 0.3-0.5
        // for a second after one confident frame, and dropping the track there would start it
        // again only once the lorry is whole, past any count line. A one-frame false positive
        // still needs a second, overlapping detection to be confirmed.
        let waiting: Vec<usize> = (0..self.tracks.len())
            .filter(|&ti| matched[ti].is_none())
            .collect();
        let gate = Gate {
            min_iou: p.low_match_iou,
            centre_gate: 0.0,
            max_size_ratio: 1.0,
        };
        for (ti, di) in associate(&predicted, &waiting, detections, &low, &gate) {
            matched[ti] = Some(di);
        }

        let mut seen = Vec::new();
        let mut claimed: Vec<BBox> = Vec::new();
        let mut used = vec![false; detections.len()];
        for (track, slot) in self.tracks.iter_mut().zip(&matched) {
            let Some(di) = *slot else { continue };
            let det = &detections[di];
            used[di] = true;
            claimed.push(det.bbox);
            track.add(time, det);
            if let Some(report) = confirm(track, &mut self.next_id, det, p.min_hits) {
                seen.push(report);
            }
        }

        // Tentative tracks must be matched in every frame until confirmed.
        let mut keep = matched.iter().map(|m| m.is_some());
        self.tracks
            .retain(|t| keep.next().unwrap_or(false) || t.id.is_some());

        // New tracks, most confident first so that of two duplicate boxes the better one wins.
        let mut fresh: Vec<usize> = high
            .into_iter()
            .filter(|&di| !used[di] && detections[di].score >= p.new_track_score)
            .collect();
        fresh.sort_by(|&a, &b| detections[b].score.total_cmp(&detections[a].score));
        for di in fresh {
            let det = &detections[di];
            if duplicates(&claimed, &det.bbox, &p) {
                continue;
            }
            used[di] = true;
            claimed.push(det.bbox);
            // The lead-in comes newest first: the track starts at its oldest detection.
            let mut path = lead_in(
                &mut self.recent,
                det,
                time,
                p.low_match_iou,
                p.max_lost_secs,
            );
            path.reverse();
            path.push((time, *det));
            let mut track = Track::start(path[0].0, &path[0].1);
            for (t, d) in &path[1..] {
                track.add(*t, d);
            }
            if let Some(report) = confirm(&mut track, &mut self.next_id, det, p.min_hits) {
                seen.push(report);
            }
            self.tracks.push(track);
        }

        self.remember_unclaimed(time, detections, &used, &claimed);
        seen.sort_by_key(|s| s.track_id);
        VehicleUpdate { seen, finished }
    }

    /// Keeps this frame's detections that no track took and that repeat no claimed box, and forgets
    /// frames older than `lead_in_secs`.
    fn remember_unclaimed(
        &mut self,
        time: f64,
        detections: &[VehicleDetection],
        used: &[bool],
        claimed: &[BBox],
    ) {
        let p = self.params;
        if p.lead_in_secs <= 0.0 {
            return;
        }
        let unclaimed = detections
            .iter()
            .zip(used)
            .filter(|(d, used)| {
                !**used
                    && d.score >= p.low_score
                    && usable_box(&d.bbox)
                    && !duplicates(claimed, &d.bbox, &p)
            })
            .map(|(d, _)| *d)
            .collect();
        self.recent.push_back(UnclaimedFrame {
            time,
            detections: unclaimed,
        });
        while self
            .recent
            .front()
            .is_some_and(|f| time - f.time > p.lead_in_secs)
        {
            self.recent.pop_front();
        }
    }

    /// Ends every track (end of input, shutdown) and returns the confirmed ones, by ascending id.
    /// Ids keep increasing afterwards.
    pub fn finish_all(&mut self) -> Vec<FinishedVehicle> {
        self.recent.clear();
        let mut finished: Vec<FinishedVehicle> = std::mem::take(&mut self.tracks)
            .iter()
            .filter_map(Track::finish)
            .collect();
        finished.sort_by_key(|f| f.track_id);
        finished
    }

    fn expire(&mut self, now: f64) -> Vec<FinishedVehicle> {
        let max_lost = self.params.max_lost_secs;
        let mut finished = Vec::new();
        self.tracks.retain(|t| {
            let live = now - t.last_time <= max_lost;
            if !live {
                finished.extend(t.finish());
            }
            live
        });
        finished.sort_by_key(|f| f.track_id);
        finished
    }
}

/// Matches `detections[dets]` to `tracks` (indices into `predicted`) through `gate`; returns
/// (track index, detection index) pairs.
fn associate(
    predicted: &[BBox],
    tracks: &[usize],
    detections: &[VehicleDetection],
    dets: &[usize],
    gate: &Gate,
) -> Vec<(usize, usize)> {
    let mut candidates = Vec::new();
    for (ti, &track) in tracks.iter().enumerate() {
        for (dj, &det) in dets.iter().enumerate() {
            if let Some(score) = affinity(&predicted[track], &detections[det].bbox, gate) {
                candidates.push(Candidate {
                    score,
                    track: ti,
                    detection: dj,
                });
            }
        }
    }
    greedy_assign(candidates, tracks.len(), dets.len())
        .into_iter()
        .map(|(ti, dj)| (tracks[ti], dets[dj]))
        .collect()
}

/// Gives `track` an id once it has enough hits; returns its report for this frame if confirmed.
fn confirm(
    track: &mut Track,
    next_id: &mut u64,
    det: &VehicleDetection,
    min_hits: u32,
) -> Option<TrackedVehicle> {
    let newly_confirmed = track.id.is_none() && track.hits >= min_hits;
    if newly_confirmed {
        track.id = Some(*next_id);
        *next_id += 1;
    }
    track.id.map(|id| track.seen(id, det, newly_confirmed))
}

/// Whether `bbox` repeats a box already claimed in its frame (see `duplicate_iou`,
/// `duplicate_cover`).
fn duplicates(claimed: &[BBox], bbox: &BBox, p: &VehicleTrackerParams) -> bool {
    claimed
        .iter()
        .any(|b| b.iou(bbox) >= p.duplicate_iou || b.overlap_of_smaller(bbox) >= p.duplicate_cover)
}

/// The unclaimed detections that lead up to `first` (seen at `time`), newest frame backwards, at
/// most one per frame, each overlapping the next by at least `min_iou`; taken out of `recent` and
/// returned newest first. Like a lost track going forwards, the chain bridges frames without such
/// a detection for up to `max_gap` seconds, and stops at a longer gap.
fn lead_in(
    recent: &mut VecDeque<UnclaimedFrame>,
    first: &VehicleDetection,
    time: f64,
    min_iou: f32,
    max_gap: f64,
) -> Vec<(f64, VehicleDetection)> {
    let mut chain = Vec::new();
    let (mut head, mut head_time) = (first.bbox, time);
    for frame in recent.iter_mut().rev() {
        if head_time - frame.time > max_gap {
            break;
        }
        let best = frame
            .detections
            .iter()
            .enumerate()
            .map(|(i, d)| (i, head.iou(&d.bbox)))
            .filter(|(_, iou)| *iou >= min_iou)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((i, _)) = best else { continue };
        let det = frame.detections.remove(i);
        (head, head_time) = (det.bbox, frame.time);
        chain.push((frame.time, det));
    }
    chain
}

fn usable_box(b: &BBox) -> bool {
    [b.x1, b.y1, b.x2, b.y2].iter().all(|v| v.is_finite()) && b.x2 > b.x1 && b.y2 > b.y1
}
