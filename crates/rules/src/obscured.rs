//! Obscured or missing plates: a vehicle tracked long and close enough that its plate should have
//! been read, yet no plate was ever seen.
use xl_schema::VehicleClass;

use crate::ObscuredConfig;

/// What the tracker knows about one finished vehicle pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VehiclePassSummary {
    pub class: VehicleClass,
    /// Frames the vehicle was tracked in.
    pub frames: u32,
    /// Tallest box of the pass, in source-frame pixels.
    pub max_box_height_px: f32,
    /// Plate detections associated with the vehicle over the pass.
    pub plate_observations: u32,
}

/// The obscured-plate rule.
#[derive(Debug, Clone)]
pub struct ObscuredRule {
    cfg: ObscuredConfig,
}

impl ObscuredRule {
    pub fn new(cfg: ObscuredConfig) -> Self {
        Self { cfg }
    }

    /// True when the pass should be reported: a listed class, tracked for at least `min_frames`,
    /// at least `min_box_height_px` tall at its closest, and no plate observed at all.
    pub fn judge(&self, pass: &VehiclePassSummary) -> bool {
        self.cfg.classes.contains(&pass.class)
            && pass.frames >= self.cfg.min_frames
            && pass.max_box_height_px >= self.cfg.min_box_height_px
            && pass.plate_observations == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> VehiclePassSummary {
        VehiclePassSummary {
            class: VehicleClass::Truck,
            frames: 5,
            max_box_height_px: 120.0,
            plate_observations: 0,
        }
    }

    #[test]
    fn reported_at_the_thresholds() {
        let r = ObscuredRule::new(ObscuredConfig::default());
        assert!(r.judge(&pass()));
        assert!(!r.judge(&VehiclePassSummary {
            frames: 4,
            ..pass()
        }));
        assert!(!r.judge(&VehiclePassSummary {
            max_box_height_px: 119.9,
            ..pass()
        }));
        assert!(!r.judge(&VehiclePassSummary {
            plate_observations: 1,
            ..pass()
        }));
    }

    #[test]
    fn only_listed_classes() {
        let r = ObscuredRule::new(ObscuredConfig::default());
        assert!(r.judge(&VehiclePassSummary {
            class: VehicleClass::Car,
            ..pass()
        }));
        assert!(!r.judge(&VehiclePassSummary {
            class: VehicleClass::Motorcycle,
            ..pass()
        }));
        let trucks_only = ObscuredRule::new(ObscuredConfig {
            classes: vec![VehicleClass::Truck],
            ..ObscuredConfig::default()
        });
        assert!(!trucks_only.judge(&VehiclePassSummary {
            class: VehicleClass::Bus,
            ..pass()
        }));
    }
}
