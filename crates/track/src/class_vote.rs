//! Electing a vehicle track's class from its per-frame detections.
use xl_schema::VehicleClass;

/// Detector-score-weighted votes per class: the detector's class flickers between car, truck and
/// bus for one vehicle, and its confident frames should outweigh its doubtful ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClassVotes([f32; VehicleClass::ALL.len()]);

impl ClassVotes {
    pub(crate) fn add(&mut self, class: VehicleClass, score: f32) {
        if let Some(i) = VehicleClass::ALL.iter().position(|c| *c == class) {
            if score > 0.0 {
                self.0[i] += score;
            }
        }
    }

    /// The share of all the weight that `class` holds (0 before any vote).
    pub(crate) fn share(&self, class: VehicleClass) -> f32 {
        let total: f32 = self.0.iter().sum();
        match VehicleClass::ALL.iter().position(|c| *c == class) {
            Some(i) if total > 0.0 => self.0[i] / total,
            _ => 0.0,
        }
    }

    /// The class with the most weight; ties go to the earlier class in `VehicleClass::ALL` (car
    /// first, the commonest) so the answer never depends on arrival order.
    pub(crate) fn winner(&self) -> VehicleClass {
        let mut best = 0;
        for (i, w) in self.0.iter().enumerate() {
            if *w > self.0[best] {
                best = i;
            }
        }
        VehicleClass::ALL[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_frames_outweigh_more_numerous_doubtful_ones() {
        let mut v = ClassVotes::default();
        for _ in 0..3 {
            v.add(VehicleClass::Car, 0.3);
        }
        v.add(VehicleClass::Truck, 0.8);
        v.add(VehicleClass::Truck, 0.7);
        assert_eq!(v.winner(), VehicleClass::Truck);
    }

    #[test]
    fn ties_are_broken_by_class_order_not_arrival() {
        let mut a = ClassVotes::default();
        a.add(VehicleClass::Bus, 0.5);
        a.add(VehicleClass::Car, 0.5);
        let mut b = ClassVotes::default();
        b.add(VehicleClass::Car, 0.5);
        b.add(VehicleClass::Bus, 0.5);
        assert_eq!(a.winner(), VehicleClass::Car);
        assert_eq!(b.winner(), VehicleClass::Car);
    }
}
