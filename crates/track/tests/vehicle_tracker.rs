//! Behaviour of the vehicle tracker as a user of its output sees it: ids, reports and classes.
//! Frames are at 5 per second (0.2 s apart) unless a test says otherwise.
use xl_schema::{BBox, VehicleClass, VehicleDetection};
use xl_track::{FinishedVehicle, VehicleTracker, VehicleTrackerParams, VehicleUpdate};

const FRAME: f64 = 0.2;

fn boxed(cx: f32, cy: f32, w: f32, h: f32) -> BBox {
    BBox::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
}

fn det(class: VehicleClass, score: f32, bbox: BBox) -> VehicleDetection {
    VehicleDetection { class, score, bbox }
}

fn car(score: f32, bbox: BBox) -> VehicleDetection {
    det(VehicleClass::Car, score, bbox)
}

fn tracker() -> VehicleTracker {
    VehicleTracker::new(VehicleTrackerParams::default())
}

fn time(frame: usize) -> f64 {
    frame as f64 * FRAME
}

/// The id reported in `u` for the detection with box `b`.
fn id_of(u: &VehicleUpdate, b: &BBox) -> Option<u64> {
    u.seen.iter().find(|s| s.bbox == *b).map(|s| s.track_id)
}

/// `factor` to the power `frames`, by plain multiplication so that every call gives the same bits
/// (`powi` may be folded differently at compile time than computed at run time).
fn growth(factor: f32, frames: usize) -> f32 {
    (0..frames).fold(1.0, |g, _| g * factor)
}

/// A score that wanders over 0.6-0.9 as a real detector's does, deterministically.
fn noisy_score(frame: usize, seed: usize) -> f32 {
    [0.62, 0.85, 0.7, 0.9, 0.66, 0.78][(frame + seed) % 6]
}

#[test]
fn two_vehicles_crossing_paths_keep_their_ids() {
    // A drives right, B drives left in the neighbouring lane; their boxes overlap heavily around
    // frame 8. In the second run B is hidden behind A for the two frames of worst overlap.
    for hidden in [vec![], vec![8, 9]] {
        let mut t = tracker();
        let (mut id_a, mut id_b) = (None, None);
        for f in 0..18 {
            let a = boxed(200.0 + 90.0 * f as f32, 500.0, 200.0, 150.0);
            let b = boxed(1700.0 - 90.0 * f as f32, 540.0, 200.0, 150.0);
            let mut dets = vec![car(noisy_score(f, 0), a)];
            if !hidden.contains(&f) {
                dets.push(car(noisy_score(f, 3), b));
            }
            let u = t.update(time(f), &dets);
            assert!(u.finished.is_empty(), "frame {f}: nobody leaves");
            if f == 0 {
                assert!(u.seen.is_empty(), "tentative on the first frame");
                continue;
            }
            let got_a = id_of(&u, &a).expect("A reported");
            assert_eq!(
                *id_a.get_or_insert(got_a),
                got_a,
                "A keeps its id at frame {f}"
            );
            if !hidden.contains(&f) {
                let got_b = id_of(&u, &b).expect("B reported");
                assert_eq!(
                    *id_b.get_or_insert(got_b),
                    got_b,
                    "B keeps its id at frame {f}"
                );
            }
        }
        assert_ne!(id_a, id_b);
        let done = t.finish_all();
        assert_eq!(done.len(), 2, "hidden {hidden:?}: {done:?}");
        let hits_b = done.iter().find(|d| Some(d.track_id) == id_b).unwrap().hits;
        assert_eq!(hits_b as usize, 18 - hidden.len());
    }
}

#[test]
fn vehicles_side_by_side_stay_apart_when_one_is_hidden() {
    let mut t = tracker();
    let mut ids = Vec::new();
    for f in 0..10 {
        let left = boxed(700.0, 200.0 + 80.0 * f as f32, 220.0, 170.0);
        let right = boxed(960.0, 210.0 + 80.0 * f as f32, 220.0, 170.0);
        let mut dets = vec![car(0.8, right)];
        if !(4..6).contains(&f) {
            dets.push(car(0.7, left));
        }
        let u = t.update(time(f), &dets);
        if f > 0 {
            ids.push((id_of(&u, &left), id_of(&u, &right)));
        }
    }
    let right_ids: Vec<_> = ids.iter().map(|(_, r)| r.unwrap()).collect();
    assert!(right_ids.iter().all(|&r| r == right_ids[0]));
    let left_ids: Vec<_> = ids.iter().filter_map(|(l, _)| *l).collect();
    assert_eq!(left_ids.len(), 7);
    assert!(left_ids
        .iter()
        .all(|&l| l == left_ids[0] && l != right_ids[0]));
}

/// A vehicle coming toward the camera: 60 px down and 5% larger per frame.
fn approaching(f: usize) -> BBox {
    let g = growth(1.05, f);
    boxed(900.0, 150.0 + 60.0 * f as f32, 200.0 * g, 150.0 * g)
}

#[test]
fn a_vehicle_missed_for_three_frames_keeps_its_id() {
    let mut t = tracker();
    let mut ids = Vec::new();
    for f in 0..13 {
        let dets = if (5..8).contains(&f) {
            vec![] // occluded for 0.6 s
        } else {
            vec![car(0.8, approaching(f))]
        };
        let u = t.update(time(f), &dets);
        assert!(u.finished.is_empty());
        if (5..8).contains(&f) {
            assert!(u.seen.is_empty());
        } else if f > 0 {
            ids.push(id_of(&u, &approaching(f)).expect("reported"));
        }
    }
    assert!(ids.iter().all(|&id| id == 1), "{ids:?}");
    let done = t.finish_all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].hits, 10);
}

#[test]
fn a_vehicle_missed_beyond_max_lost_finishes_with_its_history() {
    let mut t = tracker();
    for f in 0..5 {
        t.update(time(f), &[car(0.8, approaching(f))]);
    }
    // Last match at 0.8 s; max_lost_secs is 1.0.
    for now in [1.4, 1.7] {
        let u = t.update(now, &[]);
        assert!(u.finished.is_empty(), "still only lost at {now}");
    }
    assert_eq!(t.active_tracks(), 1);
    let u = t.update(1.9, &[]);
    assert_eq!(
        u.finished,
        vec![FinishedVehicle {
            track_id: 1,
            class: VehicleClass::Car,
            hits: 5,
            first_time: 0.0,
            last_time: time(4),
            first_bbox: approaching(0),
            last_bbox: approaching(4),
            max_box_height: approaching(4).height(),
        }]
    );
    assert_eq!(t.active_tracks(), 0);
    // The same place afterwards is another vehicle.
    t.update(2.0, &[car(0.8, approaching(4))]);
    let u = t.update(2.2, &[car(0.8, approaching(5))]);
    assert_eq!(u.seen[0].track_id, 2);
    assert!(t.finish_all().iter().all(|d| d.track_id == 2));
}

#[test]
fn a_low_score_detection_continues_a_track_but_never_starts_one() {
    // Weak (0.35) or merely high (0.42 < new_track_score) detections alone never make a vehicle.
    for score in [0.35, 0.42] {
        let mut t = tracker();
        for f in 0..10 {
            let u = t.update(time(f), &[car(score, approaching(f))]);
            assert!(u.seen.is_empty(), "score {score} frame {f}");
        }
        assert!(t.finish_all().is_empty());
    }

    // A confirmed vehicle whose score drops (partly hidden) continues on 0.3 detections; 0.1 ones
    // are ignored, so after them it finishes at the last 0.3 frame.
    let mut t = tracker();
    let mut finished = Vec::new();
    let scores = [0.8, 0.8, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
    for (f, &score) in scores.iter().enumerate() {
        let u = t.update(time(f), &[car(score, approaching(f))]);
        if (1..5).contains(&f) {
            assert_eq!(u.seen.len(), 1, "frame {f}");
            assert_eq!(u.seen[0].track_id, 1);
            assert_eq!(u.seen[0].score, score);
        } else {
            assert!(u.seen.is_empty(), "frame {f}");
        }
        finished.extend(u.finished);
    }
    assert_eq!(finished.len(), 1, "finished within the 2.2 s fed");
    assert_eq!((finished[0].hits, finished[0].last_time), (5, time(4)));
}

#[test]
fn one_confident_frame_then_weak_overlapping_ones_make_a_vehicle_from_its_first_frame() {
    // A lorry entering at the top edge: one 0.61 frame, then 0.35-0.45 while it is still cut by
    // the frame. It is reported from the second frame, so its path (a count line it crosses
    // early) is seen whole; the confident frame was its first.
    let mut t = tracker();
    let scores = [0.61, 0.36, 0.45, 0.34, 0.35, 0.44, 0.54];
    for (f, &score) in scores.iter().enumerate() {
        let u = t.update(time(f), &[det(VehicleClass::Truck, score, approaching(f))]);
        if f == 0 {
            assert!(u.seen.is_empty(), "tentative on its first frame");
        } else {
            assert_eq!(u.seen.len(), 1, "frame {f}: {u:?}");
            assert_eq!(u.seen[0].first_time, time(0));
        }
    }
    // A confident ghost followed by a weak box elsewhere (no clear overlap) stays a ghost.
    let mut t = tracker();
    t.update(time(0), &[car(0.9, boxed(300.0, 300.0, 200.0, 150.0))]);
    let u = t.update(time(1), &[car(0.4, boxed(700.0, 300.0, 200.0, 150.0))]);
    assert!(u.seen.is_empty(), "{u:?}");
    assert!(t.finish_all().is_empty());
}

#[test]
fn the_confirming_frame_carries_the_tentative_boxes_so_early_movement_is_not_lost() {
    // With three hits needed, the vehicle is reported from its third frame; that report holds
    // its first two boxes (where a count line may already have been crossed), and later ones
    // hold none.
    let params = VehicleTrackerParams {
        min_hits: 3,
        ..VehicleTrackerParams::default()
    };
    let mut t = VehicleTracker::new(params);
    for f in 0..5 {
        let u = t.update(time(f), &[car(0.8, approaching(f))]);
        match f {
            0 | 1 => assert!(u.seen.is_empty(), "frame {f}: still tentative"),
            2 => {
                assert!(u.seen[0].newly_confirmed);
                assert_eq!(
                    u.seen[0].tentative,
                    vec![(time(0), approaching(0)), (time(1), approaching(1))]
                );
            }
            _ => assert!(u.seen[0].tentative.is_empty(), "frame {f}: {u:?}"),
        }
    }
}

/// A bus filling much of the frame, coming closer slowly: 25 px down and 2% larger per frame.
fn slow_bus(f: usize) -> BBox {
    let g = growth(1.02, f);
    boxed(450.0, 200.0 + 25.0 * f as f32, 700.0 * g, 380.0 * g)
}

fn bus(score: f32, f: usize) -> VehicleDetection {
    det(VehicleClass::Bus, score, slow_bus(f))
}

#[test]
fn a_bus_scored_weakly_before_its_first_confident_frame_is_tracked_from_its_weak_frames() {
    // Scored 0.31-0.44 for 1.4 s (and missed once) before its first 0.56 frame, as NanoDet
    // scores an approaching bus: the track it then starts holds those boxes, is reported at once,
    // and began at the first weak frame, so a count line it crossed meanwhile is not lost.
    let mut t = tracker();
    let weak = [
        (0, 0.33),
        (1, 0.38),
        (2, 0.4),
        (4, 0.44),
        (5, 0.36),
        (6, 0.31),
    ];
    for f in 0..7 {
        let dets: Vec<_> = weak
            .iter()
            .filter(|(w, _)| *w == f)
            .map(|&(_, score)| bus(score, f))
            .collect();
        let u = t.update(time(f), &dets);
        assert!(u.seen.is_empty(), "frame {f}: weak alone is no vehicle");
    }
    let u = t.update(time(7), &[bus(0.56, 7)]);
    assert_eq!(u.seen.len(), 1, "{u:?}");
    let v = &u.seen[0];
    assert!(v.newly_confirmed);
    assert_eq!(v.first_time, time(0));
    let earlier: Vec<_> = weak.iter().map(|&(f, _)| (time(f), slow_bus(f))).collect();
    assert_eq!(v.tentative, earlier);
    assert_eq!(v.class, VehicleClass::Bus);
    let u = t.update(time(8), &[bus(0.5, 8)]);
    assert_eq!(u.seen[0].track_id, v.track_id);
    assert!(u.seen[0].tentative.is_empty());
    let finished = t.finish_all();
    assert_eq!((finished[0].hits, finished[0].first_bbox), (8, slow_bus(0)));
}

#[test]
fn a_lead_in_takes_only_overlapping_recent_unclaimed_detections() {
    let weak_then_confident = |t: &mut VehicleTracker, weak: &[(usize, VehicleDetection)]| {
        for (f, d) in weak {
            t.update(time(*f), std::slice::from_ref(d));
        }
        t.update(time(12), &[bus(0.56, 12)])
    };
    // A weak box elsewhere in the frame is not this bus's past.
    let elsewhere = det(VehicleClass::Bus, 0.4, boxed(1500.0, 500.0, 300.0, 200.0));
    let u = weak_then_confident(&mut tracker(), &[(11, elsewhere)]);
    assert!(u.seen.is_empty(), "tentative, no lead-in: {u:?}");
    // Nor are weak boxes before a gap longer than max_lost_secs (1 s) or older than
    // lead_in_secs (2 s): only frames 11 and 10 lead in here, the rest are behind a 1.2 s gap.
    let u = weak_then_confident(
        &mut tracker(),
        &[
            (3, bus(0.4, 3)),
            (4, bus(0.4, 4)),
            (10, bus(0.4, 10)),
            (11, bus(0.4, 11)),
        ],
    );
    let firsts: Vec<_> = u.seen[0].tentative.iter().map(|(t, _)| *t).collect();
    assert_eq!(firsts, vec![time(10), time(11)]);
    // lead_in_secs = 0 turns it off.
    let mut t = VehicleTracker::new(VehicleTrackerParams {
        lead_in_secs: 0.0,
        ..VehicleTrackerParams::default()
    });
    let u = weak_then_confident(&mut t, &[(10, bus(0.4, 10)), (11, bus(0.4, 11))]);
    assert!(u.seen.is_empty(), "{u:?}");
}

#[test]
fn a_one_frame_false_positive_is_never_reported() {
    let mut t = tracker();
    let mut finished = Vec::new();
    for f in 0..8 {
        let mut dets = vec![car(0.8, approaching(f))];
        if f == 3 {
            // A confident ghost (a reflection, a shadow) far from the real vehicle.
            dets.push(det(
                VehicleClass::Truck,
                0.9,
                boxed(1500.0, 700.0, 300.0, 250.0),
            ));
        }
        let u = t.update(time(f), &dets);
        assert!(u.seen.iter().all(|s| s.track_id == 1), "frame {f}: {u:?}");
        finished.extend(u.finished);
        if f == 4 {
            assert_eq!(t.active_tracks(), 1, "the ghost is dropped at once");
        }
    }
    finished.extend(t.update(5.0, &[]).finished);
    finished.extend(t.finish_all());
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].track_id, 1);
    assert_eq!(finished[0].class, VehicleClass::Car);
}

#[test]
fn class_flicker_is_settled_by_score_weighted_vote() {
    let mut t = tracker();
    let frames = [
        (VehicleClass::Truck, 0.8),
        (VehicleClass::Car, 0.55),
        (VehicleClass::Truck, 0.75),
        (VehicleClass::Car, 0.6),
        (VehicleClass::Bus, 0.5),
        (VehicleClass::Car, 0.35), // a weak, partly hidden frame
    ];
    for (f, &(class, score)) in frames.iter().enumerate() {
        let u = t.update(time(f), &[det(class, score, approaching(f))]);
        if f > 0 {
            assert_eq!(u.seen.len(), 1, "frame {f}: one vehicle whatever the class");
            // Truck 0.8 vs car 0.55 after frame 1; car's 1.5 vs truck's 1.55 after frame 5.
            assert_eq!(u.seen[0].class, VehicleClass::Truck, "frame {f}");
        }
    }
    let done = t.finish_all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].class, VehicleClass::Truck);
}

#[test]
fn one_vehicle_reported_as_both_car_and_truck_is_one_track() {
    // Class-aware NMS keeps a "car" and a "truck" box on the same pickup.
    let mut t = tracker();
    for f in 0..6 {
        let b = approaching(f);
        let twin = BBox::new(b.x1 + 4.0, b.y1 - 3.0, b.x2 - 2.0, b.y2 + 5.0);
        assert!(b.iou(&twin) > 0.9);
        let u = t.update(
            time(f),
            &[
                det(VehicleClass::Truck, 0.7, b),
                det(VehicleClass::Car, 0.65, twin),
            ],
        );
        assert!(u.seen.len() <= 1, "frame {f}: {u:?}");
    }
    let done = t.finish_all();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].hits, 6);
}

#[test]
fn a_lorry_also_reported_with_a_looser_box_around_it_is_one_track() {
    // Seen on a lorry: its body at 0.5-0.7 and, in some frames, a box half again as tall
    // around body and trailer at 0.45-0.5. The two overlap by IoU ~0.58, under the duplicate
    // IoU, but the looser box holds the body whole.
    let mut t = tracker();
    for f in 0..8 {
        let body = approaching(f);
        let loose = BBox::new(
            body.x1 - 120.0,
            body.y1 - 20.0,
            body.x2 + 10.0,
            body.y2 + 60.0,
        );
        assert!(body.iou(&loose) < 0.7);
        let mut dets = vec![det(VehicleClass::Truck, 0.6, body)];
        if f >= 2 {
            dets.push(det(VehicleClass::Truck, 0.48, loose));
        }
        let u = t.update(time(f), &dets);
        assert!(u.seen.len() <= 1, "frame {f}: {u:?}");
    }
    assert_eq!(t.finish_all().len(), 1);
}

#[test]
fn a_fast_approaching_vehicle_keeps_one_id() {
    // Per analysed frame the box grows 10% and its centre moves 12% of a 1080-line frame (130 px),
    // with a little detector jitter. (Over 20 frames the box runs past a real frame; the tracker
    // does not know the frame size.)
    let jitter = [0.0f32, 0.02, -0.015, 0.01, -0.02, 0.015];
    let at = |f: usize| {
        let g = growth(1.1, f);
        let (w, h) = (240.0 * g, 180.0 * g);
        let j = jitter[f % jitter.len()];
        boxed(960.0 + j * w, 100.0 + 129.6 * f as f32 + j * h, w, h)
    };
    // The second box overlaps the first too little for an IoU match: the centre gate is needed.
    assert!(at(0).iou(&at(1)) < VehicleTrackerParams::default().match_iou);
    let mut t = tracker();
    for f in 0..20 {
        let u = t.update(time(f), &[car(noisy_score(f, 1), at(f))]);
        if f > 0 {
            assert_eq!(id_of(&u, &at(f)), Some(1), "frame {f}");
        }
        assert!(u.finished.is_empty());
    }
    let done = t.finish_all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].hits, 20);
    assert_eq!(done[0].max_box_height, at(19).height());
}

#[test]
fn a_growing_vehicle_back_from_hiding_with_a_weak_score_keeps_its_id() {
    // Close to the camera a truck grows 12% per frame. Hidden for 0.9 s, it comes back 1.7 times
    // larger and still partly hidden (score 0.35, second stage, IoU of at least 0.4 needed): only
    // a prediction of its size, not just of its position, overlaps it enough.
    let at = |t: f64| {
        let g = (1.12f32.ln() * t as f32 / 0.2).exp();
        boxed(900.0, 200.0 + 500.0 * t as f32, 300.0 * g, 220.0 * g)
    };
    let times = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.9, 2.1];
    let boxes: Vec<BBox> = times.iter().map(|&t| at(t)).collect();
    let back = boxes[6];
    let (cx, cy) = back.center();
    let old_size = boxed(cx, cy, boxes[5].width(), boxes[5].height());
    assert!(old_size.iou(&back) < VehicleTrackerParams::default().low_match_iou);

    let mut t = tracker();
    for (i, (&now, b)) in times.iter().zip(&boxes).enumerate() {
        let score = if i == 6 { 0.35 } else { 0.8 };
        let u = t.update(now, &[det(VehicleClass::Truck, score, *b)]);
        if i > 0 {
            assert_eq!(id_of(&u, b), Some(1), "at {now}");
        }
    }
    assert_eq!(t.finish_all()[0].hits, 8);
}

#[test]
fn uneven_frame_spacing_is_predicted_by_elapsed_time() {
    // 700 px/s down. Across the 0.5 s gaps the vehicle moves 350 px, more than twice its height:
    // a prediction of one 0.2 s step would miss it entirely.
    let times = [0.0, 0.1, 0.3, 0.8, 0.9, 1.4, 1.45, 1.9];
    let at = |t: f64| boxed(800.0, 100.0 + 700.0 * t as f32, 200.0, 150.0);
    let mut tr = tracker();
    for (i, &now) in times.iter().enumerate() {
        let u = tr.update(now, &[car(0.8, at(now))]);
        if i > 0 {
            assert_eq!(id_of(&u, &at(now)), Some(1), "at {now}");
        }
    }
    assert_eq!(tr.finish_all()[0].hits, times.len() as u32);
}

#[test]
fn finish_all_reports_every_confirmed_track() {
    let mut t = tracker();
    let lane = |x: f32, f: usize| boxed(x, 200.0 + 70.0 * f as f32, 200.0, 150.0);
    for f in 0..5 {
        let mut dets = vec![car(0.8, lane(300.0, f)), car(0.8, lane(1100.0, f))];
        if f < 3 {
            dets.push(car(0.8, lane(700.0, f))); // lost for the last two frames
        }
        if f == 4 {
            dets.push(car(0.9, lane(1600.0, f))); // tentative: seen once
        }
        t.update(time(f), &dets);
    }
    assert_eq!(t.active_tracks(), 4);
    let done = t.finish_all();
    let ids: Vec<u64> = done.iter().map(|d| d.track_id).collect();
    assert_eq!(ids, [1, 2, 3]);
    let middle = done
        .iter()
        .find(|d| d.first_bbox == lane(700.0, 0))
        .unwrap();
    assert_eq!((middle.hits, middle.last_time), (3, time(2)));
    assert_eq!(t.active_tracks(), 0);
    assert!(t.finish_all().is_empty());
}

#[test]
fn ids_are_consecutive_and_never_reused() {
    let mut t = tracker();
    let mut finished = Vec::new();
    let mut now = 0.0;
    // Eight vehicles pass the same spot one after another, 2 s apart, with a ghost between each.
    for _ in 0..8 {
        for f in 0..5 {
            finished.extend(t.update(now, &[car(0.8, approaching(f))]).finished);
            now += FRAME;
        }
        finished.extend(t.update(now + 1.0, &[car(0.9, approaching(9))]).finished);
        now += 2.0;
    }
    // A finish_all in the middle of the stream does not restart numbering.
    finished.extend(t.finish_all());
    for f in 0..3 {
        let u = t.update(now + time(f), &[car(0.8, approaching(f))]);
        if f > 0 {
            assert_eq!(u.seen[0].track_id, 9);
        }
    }
    let ids: Vec<u64> = finished.iter().map(|d| d.track_id).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
}

#[test]
fn garbage_input_is_ignored_without_panicking() {
    let mut t = tracker();
    let garbage = [
        car(0.9, BBox::new(f32::NAN, 0.0, 10.0, 10.0)),
        car(0.9, BBox::new(100.0, 100.0, 100.0, 200.0)), // zero width
        car(0.9, BBox::new(300.0, 300.0, 200.0, 400.0)), // inverted
        car(f32::NAN, approaching(0)),
    ];
    for f in 0..4 {
        assert_eq!(t.update(time(f), &garbage), VehicleUpdate::default());
    }
    assert_eq!(t.active_tracks(), 0);
    assert_eq!(
        t.update(f64::NAN, &[car(0.9, approaching(0))]),
        VehicleUpdate::default()
    );
    // A frame time going backwards is taken as the latest one: no panic, the track continues.
    t.update(1.0, &[car(0.9, approaching(0))]);
    let u = t.update(0.5, &[car(0.9, approaching(0))]);
    assert_eq!(u.seen[0].first_time, 1.0);
    assert_eq!(t.finish_all()[0].last_time, 1.0);
}

/// Small deterministic generator for the scene below.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A busy random scene: vehicles entering in four lanes, random misses, scores, classes and ghosts.
fn random_scene(seed: u64, frames: usize) -> Vec<(f64, Vec<VehicleDetection>)> {
    let mut rng = Lcg(seed);
    let mut vehicles: Vec<(f32, f32, f32)> = Vec::new(); // (cx, cy, height)
    let mut out = Vec::new();
    let mut now = 0.0;
    for _ in 0..frames {
        now += if rng.next() < 0.1 { 0.4 } else { 0.2 };
        if rng.next() < 0.15 {
            let lane = (rng.next() * 4.0).floor();
            vehicles.push((300.0 + 400.0 * lane, 0.0, 80.0 + 40.0 * rng.next()));
        }
        let mut dets = Vec::new();
        for v in &mut vehicles {
            v.1 += v.2 * (0.4 + 0.5 * rng.next());
            v.2 *= 1.05;
            if rng.next() < 0.8 {
                let class = VehicleClass::ALL[(rng.next() * 4.0) as usize % 4];
                let score = 0.15 + 0.8 * rng.next();
                dets.push(det(class, score, boxed(v.0, v.1, v.2 * 1.3, v.2)));
            }
        }
        vehicles.retain(|v| v.1 < 1400.0);
        if rng.next() < 0.2 {
            let b = boxed(2000.0 * rng.next(), 1080.0 * rng.next(), 150.0, 120.0);
            dets.push(car(0.5 + 0.5 * rng.next(), b));
        }
        out.push((now, dets));
    }
    out
}

#[test]
fn outputs_are_deterministic_and_consistent_on_a_busy_scene() {
    for seed in 1..6 {
        let scene = random_scene(seed, 400);
        let run = || {
            let mut t = tracker();
            let mut updates: Vec<VehicleUpdate> = scene
                .iter()
                .map(|(now, dets)| t.update(*now, dets))
                .collect();
            updates.push(VehicleUpdate {
                seen: vec![],
                finished: t.finish_all(),
            });
            updates
        };
        let updates = run();
        assert_eq!(updates, run(), "seed {seed}: same input, same output");

        let mut confirmed = Vec::new();
        let mut ended = Vec::new();
        for (i, u) in updates.iter().enumerate() {
            let dets = scene.get(i).map_or(&[][..], |(_, d)| &d[..]);
            let mut used = vec![false; dets.len()];
            for s in &u.seen {
                assert!(
                    !ended.contains(&s.track_id),
                    "seed {seed}: finished id seen again"
                );
                let k = dets
                    .iter()
                    .enumerate()
                    .position(|(k, d)| !used[k] && d.bbox == s.bbox && d.score == s.score)
                    .expect("each report is one of this frame's detections, used once");
                used[k] = true;
                if s.newly_confirmed {
                    assert_eq!(
                        s.track_id,
                        confirmed.len() as u64 + 1,
                        "ids are consecutive"
                    );
                    confirmed.push(s.track_id);
                } else {
                    assert!(confirmed.contains(&s.track_id));
                }
            }
            for f in &u.finished {
                assert!(confirmed.contains(&f.track_id) && !ended.contains(&f.track_id));
                assert!(f.hits >= 2 && f.first_time <= f.last_time);
                ended.push(f.track_id);
            }
        }
        ended.sort_unstable();
        assert_eq!(
            ended, confirmed,
            "seed {seed}: every confirmed track finishes once"
        );
        assert!(confirmed.len() > 10, "seed {seed}: the scene has traffic");
    }
}
