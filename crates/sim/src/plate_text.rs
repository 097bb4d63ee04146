//! Plate numbers: colour by vehicle class, province/letter/serial grammar, and per-seed
//! uniqueness across cameras.
use std::collections::HashSet;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use xl_schema::PlateColor;

use crate::rng::camera_rng;
use crate::scenario::VehicleClass;

/// Serial letters: I and O are never issued (they read as 1 and 0).
const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
/// Issuing-office letters used by Anhui besides S (Chizhou county, the common case here).
const ANHUI_OFFICES: &[u8] = b"ABCDEFGHJKLMNPRS";
const OTHER_OFFICES: &[u8] = b"ABCDEFGHJKLMN";
const OTHER_PROVINCES: &str = "京津冀晋蒙辽吉黑沪苏浙闽赣鲁豫鄂湘粤桂琼渝川贵云陕甘宁新";

/// Every province the simulator issues, for tools that judge the plate face per province.
#[cfg(test)]
pub fn all_provinces() -> impl Iterator<Item = char> {
    std::iter::once('皖').chain(OTHER_PROVINCES.chars())
}

/// The identity part of a plate, shared by all colours: province, office letter and a
/// five-character serial. Two plates with the same key would read alike, so keys are unique.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlateKey {
    pub province: char,
    pub office: char,
    pub serial: [char; 5],
}

/// Upper bound of vehicles one clip can hold: spawns are at least 2 s apart.
pub fn max_vehicles(clip_secs: u32) -> usize {
    clip_secs as usize / 2 + 2
}

fn pick(rng: &mut ChaCha8Rng, set: &[u8]) -> char {
    set[rng.gen_range(0..set.len())] as char
}

fn candidate(rng: &mut ChaCha8Rng) -> PlateKey {
    let (province, office) = if rng.gen_bool(0.55) {
        let office = if rng.gen_bool(0.65) {
            'S'
        } else {
            pick(rng, ANHUI_OFFICES)
        };
        ('皖', office)
    } else {
        let provinces: Vec<char> = OTHER_PROVINCES.chars().collect();
        (
            provinces[rng.gen_range(0..provinces.len())],
            pick(rng, OTHER_OFFICES),
        )
    };
    PlateKey {
        province,
        office,
        serial: random_serial(rng),
    }
}

fn random_serial(rng: &mut ChaCha8Rng) -> [char; 5] {
    let mut serial = ['0'; 5];
    for c in serial.iter_mut() {
        // Real serials are mostly digits with one or two letters mixed in.
        *c = if rng.gen_bool(0.22) {
            pick(rng, LETTERS)
        } else {
            pick(rng, DIGITS)
        };
    }
    serial
}

#[cfg(test)]
impl PlateKey {
    /// A random key of `province`, for tools that judge the plate face per province.
    pub fn random_in(province: char, rng: &mut ChaCha8Rng) -> PlateKey {
        PlateKey {
            province,
            office: pick(rng, OTHER_OFFICES),
            serial: random_serial(rng),
        }
    }
}

/// The plate keys camera `camera` will use, in order. Camera c skips every key reserved by
/// cameras 1..c (their first `max_vehicles` keys), so plates are distinct across cameras for a
/// seed without camera c's clip depending on how many cameras run.
pub fn camera_plate_keys(seed: u64, camera: u32, clip_secs: u32) -> Vec<PlateKey> {
    let n = max_vehicles(clip_secs);
    let mut taken: HashSet<PlateKey> = HashSet::new();
    let mut mine = Vec::new();
    for c in 1..=camera {
        let mut rng = camera_rng(seed, c, "plates");
        mine = Vec::with_capacity(n);
        while mine.len() < n {
            let key = candidate(&mut rng);
            if taken.insert(key.clone()) {
                mine.push(key);
            }
        }
    }
    mine
}

/// Colour by class, with frequencies roughly those of Chinese traffic: blue dominates cars,
/// new-energy green is common, large vehicles carry yellow plates.
pub fn pick_color(rng: &mut ChaCha8Rng, class: VehicleClass) -> PlateColor {
    let r: f64 = rng.gen();
    match class {
        VehicleClass::Car if r < 0.74 => PlateColor::Blue,
        VehicleClass::Car => PlateColor::Green,
        VehicleClass::Bus if r < 0.55 => PlateColor::Yellow,
        VehicleClass::Bus => PlateColor::Green,
        VehicleClass::Truck if r < 0.8 => PlateColor::Yellow,
        VehicleClass::Truck => PlateColor::Blue,
    }
}

/// Share of yellow-plated lorries and buses that carry the double-layer plate.
pub const DOUBLE_LAYER_SHARE: f64 = 0.5;

/// Rows of characters on a vehicle's plate: 2 (the GA 36 double-layer plate) for
/// `DOUBLE_LAYER_SHARE` of yellow-plated lorries and buses, else 1. Chosen by a hash of the
/// plate text, not by a random stream, so no existing draw moves and a cloned plate (same
/// text, class and colour) is the same plate.
pub fn plate_layers(plate: &str, class: VehicleClass, color: PlateColor) -> u8 {
    if class == VehicleClass::Car || color != PlateColor::Yellow {
        return 1;
    }
    let h = Sha256::new()
        .chain_update(b"double-layer:")
        .chain_update(plate.as_bytes())
        .finalize();
    let r = u64::from_le_bytes(h[..8].try_into().unwrap_or_default()) as f64 / u64::MAX as f64;
    if r < DOUBLE_LAYER_SHARE {
        2
    } else {
        1
    }
}

/// Plate text for a key and colour. New-energy plates insert D (electric) or F (hybrid)
/// before the serial, giving 8 characters, and keep only digits in its last four places.
pub fn plate_text(key: &PlateKey, color: PlateColor, rng: &mut ChaCha8Rng) -> String {
    let mut s = String::with_capacity(24);
    s.push(key.province);
    s.push(key.office);
    if color == PlateColor::Green {
        // GA 36-2018 small new-energy plates: D (electric) or F (hybrid), one letter or digit,
        // then four digits.
        s.push(if rng.gen_bool(0.7) { 'D' } else { 'F' });
        s.push(key.serial[0]);
        s.extend(key.serial[1..].iter().map(|&c| {
            if c.is_ascii_digit() {
                c
            } else {
                char::from(b'0' + (c as u8) % 10)
            }
        }));
    } else {
        s.extend(key.serial.iter());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use xl_schema::plate::is_valid_plate;

    #[test]
    fn generated_plates_follow_grammar_and_are_unique_across_cameras() {
        let mut seen = HashSet::new();
        let mut rng = camera_rng(7, 1, "test");
        let mut anhui_s = 0;
        let mut total = 0;
        for camera in 1..=12 {
            for key in camera_plate_keys(7, camera, 60) {
                assert!(seen.insert(key.clone()), "duplicate key {key:?}");
                for color in [PlateColor::Blue, PlateColor::Yellow, PlateColor::Green] {
                    let text = plate_text(&key, color, &mut rng);
                    assert!(is_valid_plate(&text), "{text} violates the grammar");
                    let expected = if color == PlateColor::Green { 8 } else { 7 };
                    assert_eq!(text.chars().count(), expected, "{text}");
                }
                total += 1;
                if key.province == '皖' && key.office == 'S' {
                    anhui_s += 1;
                }
            }
        }
        // 皖S should be the single most common prefix (about a third of plates).
        assert!(anhui_s * 5 > total, "皖S only {anhui_s} of {total}");
    }

    #[test]
    fn plate_keys_do_not_depend_on_later_cameras() {
        assert_eq!(camera_plate_keys(3, 2, 60), camera_plate_keys(3, 2, 60));
        assert_ne!(camera_plate_keys(3, 2, 60), camera_plate_keys(4, 2, 60));
    }
}
