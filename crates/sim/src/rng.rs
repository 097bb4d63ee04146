//! Seeded RNG streams: every random choice derives from (seed, camera, purpose), never from
//! thread_rng, so clips are reproducible.
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

pub fn camera_rng(seed: u64, camera: u32, purpose: &str) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(camera.to_le_bytes());
    h.update(purpose.as_bytes());
    ChaCha8Rng::from_seed(h.finalize().into())
}
