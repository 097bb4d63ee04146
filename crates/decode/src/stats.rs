use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one live decoder. Output-queue overflow is counted by `FrameQueue::dropped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Access units given to `push`.
    pub frames_in: u64,
    /// Frames that came out of the decoder.
    pub frames_decoded: u64,
    /// Frames handed to the output queue.
    pub frames_output: u64,
    /// Access units discarded before the decoder because it was behind (its input queue was full)
    /// or because no keyframe had arrived since the start or since a loss.
    pub dropped_input: u64,
    /// Frames skipped on purpose by the mode: non-keyframes in `Keyframes`, decoded frames thinned
    /// out by `SampleFps`.
    pub skipped_by_mode: u64,
    /// Pipeline errors (each one restarts the decoder at the next keyframe).
    pub errors: u64,
}

impl DecoderStats {
    /// Everything that did not reach the output queue, for whatever reason.
    pub fn frames_dropped(&self) -> u64 {
        self.dropped_input + self.skipped_by_mode
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames_in: AtomicU64,
    pub(crate) frames_decoded: AtomicU64,
    pub(crate) frames_output: AtomicU64,
    pub(crate) dropped_input: AtomicU64,
    pub(crate) skipped_by_mode: AtomicU64,
    pub(crate) errors: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> DecoderStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DecoderStats {
            frames_in: get(&self.frames_in),
            frames_decoded: get(&self.frames_decoded),
            frames_output: get(&self.frames_output),
            dropped_input: get(&self.dropped_input),
            skipped_by_mode: get(&self.skipped_by_mode),
            errors: get(&self.errors),
        }
    }
}
