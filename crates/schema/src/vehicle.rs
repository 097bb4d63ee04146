//! Vehicle classes and detections shared by the detector, the tracker and the rules.
use serde::{Deserialize, Serialize};

use crate::BBox;

/// The road-vehicle classes the pipeline keeps (COCO's other classes are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VehicleClass {
    Car,
    Motorcycle,
    Bus,
    Truck,
}

impl VehicleClass {
    pub const ALL: [VehicleClass; 4] = [
        VehicleClass::Car,
        VehicleClass::Motorcycle,
        VehicleClass::Bus,
        VehicleClass::Truck,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            VehicleClass::Car => "car",
            VehicleClass::Motorcycle => "motorcycle",
            VehicleClass::Bus => "bus",
            VehicleClass::Truck => "truck",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for VehicleClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One vehicle found in one frame, in that frame's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VehicleDetection {
    pub class: VehicleClass,
    pub score: f32,
    pub bbox: BBox,
}
