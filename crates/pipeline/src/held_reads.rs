//! Plate reads held back while their vehicle is in view or settling, so that one vehicle pass
//! gives one read. The plate detector often loses a plate for a second or two mid-pass (far away,
//! at an angle, in shadow); the plate tracker then ends one track and later starts another, and
//! without this each became its own event, the first often read from a few far frames.
use xl_track::{text_similarity, FinishedTrack};

/// Longest a read waits for its vehicle to leave: bounds how late a live read can be behind a
/// vehicle that stops in view.
pub(crate) const MAX_HOLD_SECS: f64 = 10.0;

pub(crate) struct HeldReads<P> {
    /// Two reads of one vehicle whose texts are at least this similar are one plate (the plate
    /// tracker's own threshold for joining a read to a track).
    same_plate: f32,
    held: Vec<Held<P>>,
}

struct Held<P> {
    vehicle: u64,
    track: FinishedTrack<P>,
    since: f64,
}

impl<P> HeldReads<P> {
    pub(crate) fn new(same_plate: f32) -> Self {
        Self {
            same_plate,
            held: Vec::new(),
        }
    }

    /// Holds `track`, read on `vehicle`, from `now`. A held read of the same plate on that vehicle
    /// is merged with it; one of a different plate is returned, to be reported now.
    pub(crate) fn hold(
        &mut self,
        vehicle: u64,
        track: FinishedTrack<P>,
        now: f64,
    ) -> Option<FinishedTrack<P>> {
        let Some(i) = self.held.iter().position(|h| h.vehicle == vehicle) else {
            self.held.push(Held {
                vehicle,
                track,
                since: now,
            });
            return None;
        };
        if text_similarity(&self.held[i].track.text, &track.text) >= self.same_plate {
            let earlier = self.held.remove(i);
            self.held.push(Held {
                vehicle,
                track: merge(earlier.track, track),
                since: earlier.since,
            });
            return None;
        }
        let displaced = std::mem::replace(
            &mut self.held[i],
            Held {
                vehicle,
                track,
                since: now,
            },
        );
        Some(displaced.track)
    }

    /// Whether a read is held for `vehicle`.
    pub(crate) fn holds(&self, vehicle: u64) -> bool {
        self.held.iter().any(|h| h.vehicle == vehicle)
    }

    /// The read held for `vehicle`, released.
    pub(crate) fn take(&mut self, vehicle: u64) -> Option<FinishedTrack<P>> {
        let i = self.held.iter().position(|h| h.vehicle == vehicle)?;
        Some(self.held.remove(i).track)
    }

    /// The reads held longer than [`MAX_HOLD_SECS`] at `now` (all of them when `all`), released
    /// oldest first with their vehicles.
    pub(crate) fn take_due(&mut self, now: f64, all: bool) -> Vec<(u64, FinishedTrack<P>)> {
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| all || now - h.since > MAX_HOLD_SECS);
        self.held = keep;
        due.into_iter().map(|h| (h.vehicle, h.track)).collect()
    }
}

/// One read from two tracks of the same plate: the text, confidence and evidence of the one with
/// more confident reads, the reads and time span of both.
fn merge<P>(a: FinishedTrack<P>, b: FinishedTrack<P>) -> FinishedTrack<P> {
    let weight = |t: &FinishedTrack<P>| t.reads as f32 * t.confidence;
    let (first_time, reads) = (a.first_time.min(b.first_time), a.reads + b.reads);
    let (last_time, last_box, velocity) = if b.last_time >= a.last_time {
        (b.last_time, b.last_box, b.velocity)
    } else {
        (a.last_time, a.last_box, a.velocity)
    };
    let winner = if weight(&b) > weight(&a) { b } else { a };
    FinishedTrack {
        reads,
        first_time,
        last_time,
        last_box,
        velocity,
        ..winner
    }
}

#[cfg(test)]
mod tests {
    use xl_schema::{BBox, PlateColor, PlateObservation, Quad};
    use xl_track::TrackedRead;

    use super::*;

    fn track(id: u64, text: &str, reads: usize, from: f64, to: f64) -> FinishedTrack<()> {
        let corners = Quad([[0.0, 0.0], [40.0, 0.0], [40.0, 12.0], [0.0, 12.0]]);
        FinishedTrack {
            track_id: id,
            text: text.into(),
            confidence: 0.9,
            best: TrackedRead {
                observation: PlateObservation {
                    corners,
                    detection_score: 0.9,
                    text: text.into(),
                    char_confidences: vec![0.9; text.chars().count()],
                    color: PlateColor::Blue,
                    double_layer: false,
                },
                time: to,
                frame: (),
            },
            reads,
            first_time: from,
            last_time: to,
            last_box: BBox::new(0.0, 0.0, 40.0, 12.0),
            velocity: (0.0, 0.0),
        }
    }

    #[test]
    fn a_plate_lost_mid_pass_and_found_again_is_one_read_with_the_better_text() {
        // Two far frames read the province wrong; eight near ones read it right.
        let mut held = HeldReads::new(0.7);
        assert!(held
            .hold(13, track(1, "浙C70L71", 2, 48.6, 48.8), 50.3)
            .is_none());
        assert!(held
            .hold(13, track(2, "渝C70L71", 8, 50.6, 52.0), 53.5)
            .is_none());
        let read = held.take(13).expect("one read held");
        assert_eq!(read.text, "渝C70L71");
        assert_eq!(
            (read.reads, read.first_time, read.last_time),
            (10, 48.6, 52.0)
        );
        assert!(held.take(13).is_none());
    }

    #[test]
    fn a_different_plate_on_the_same_vehicle_releases_the_earlier_read() {
        // A car's plate seen through a big bus's box, then the bus's own plate.
        let mut held = HeldReads::new(0.7);
        held.hold(4, track(1, "皖S12345", 6, 1.0, 2.0), 3.5);
        let released = held.hold(4, track(2, "苏E98765", 6, 3.0, 4.0), 5.5);
        assert_eq!(released.map(|t| t.text), Some("皖S12345".to_string()));
        assert_eq!(held.take(4).map(|t| t.text), Some("苏E98765".to_string()));
    }

    #[test]
    fn reads_are_held_per_vehicle_and_never_longer_than_the_limit() {
        let mut held = HeldReads::new(0.7);
        held.hold(1, track(1, "皖S12345", 6, 0.0, 1.0), 2.5);
        held.hold(2, track(2, "皖S12345", 6, 0.0, 1.0), 6.0);
        assert!(held.holds(1) && held.holds(2));
        assert!(held.take_due(2.5 + MAX_HOLD_SECS, false).is_empty());
        let due = held.take_due(2.6 + MAX_HOLD_SECS, false);
        assert_eq!(due.iter().map(|(v, _)| *v).collect::<Vec<_>>(), vec![1]);
        assert_eq!(held.take_due(0.0, true).len(), 1);
        assert!(!held.holds(2));
    }
}
