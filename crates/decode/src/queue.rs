use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bounded hand-off between decode and inference.
///
/// `push` never blocks the producer: when the queue is full the oldest item is discarded, because
/// for live analysis a fresh frame is worth more than a stale one. Every discarded item is counted.
pub struct FrameQueue<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    ready: Condvar,
    dropped: AtomicU64,
}

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

impl<T> FrameQueue<T> {
    /// A queue holding at most `capacity` items (a capacity of 0 is treated as 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                closed: false,
            }),
            ready: Condvar::new(),
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds an item, discarding the oldest one when full. After `close` the item is discarded
    /// (and counted) instead.
    pub fn push(&self, item: T) {
        let mut state = self.lock();
        if state.closed {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if state.items.len() >= self.capacity {
            state.items.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        state.items.push_back(item);
        drop(state);
        self.ready.notify_one();
    }

    /// Takes the oldest item, waiting up to `timeout`. Returns `None` on timeout, or at once when
    /// the queue is closed and empty.
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Some(item);
            }
            if state.closed {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = match self.ready.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Items discarded so far (overflow or pushed after close).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stops accepting items and wakes every waiting consumer; queued items can still be popped.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    // A panic while holding this lock cannot leave the deque inconsistent, so keep going.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn keeps_fifo_order() {
        let q = FrameQueue::new(3);
        q.push(1);
        q.push(2);
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop_timeout(Duration::ZERO), Some(1));
        assert_eq!(q.pop_timeout(Duration::ZERO), Some(2));
        assert_eq!(q.pop_timeout(Duration::from_millis(5)), None);
        assert_eq!(q.dropped(), 0);
    }

    #[test]
    fn full_queue_drops_oldest_and_counts() {
        let q = FrameQueue::new(2);
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(q.len(), 2);
        assert_eq!(q.dropped(), 3);
        assert_eq!(q.pop_timeout(Duration::ZERO), Some(3));
        assert_eq!(q.pop_timeout(Duration::ZERO), Some(4));
    }

    #[test]
    fn zero_capacity_holds_one() {
        let q = FrameQueue::new(0);
        q.push('a');
        q.push('b');
        assert_eq!(q.capacity(), 1);
        assert_eq!(q.pop_timeout(Duration::ZERO), Some('b'));
        assert_eq!(q.dropped(), 1);
    }

    #[test]
    fn pop_waits_for_a_producer() {
        let q = Arc::new(FrameQueue::new(4));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                q.push(7u32);
            })
        };
        let started = Instant::now();
        assert_eq!(q.pop_timeout(Duration::from_secs(5)), Some(7));
        assert!(started.elapsed() >= Duration::from_millis(40));
        producer.join().unwrap();
    }

    #[test]
    fn pop_times_out() {
        let q: FrameQueue<u8> = FrameQueue::new(1);
        let started = Instant::now();
        assert_eq!(q.pop_timeout(Duration::from_millis(30)), None);
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn close_wakes_waiters_and_drains() {
        let q = Arc::new(FrameQueue::new(4));
        q.push(1u8);
        let waiter = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let first = q.pop_timeout(Duration::from_secs(5));
                let started = Instant::now();
                let second = q.pop_timeout(Duration::from_secs(10));
                (first, second, started.elapsed())
            })
        };
        thread::sleep(Duration::from_millis(30));
        q.close();
        let (first, second, waited) = waiter.join().unwrap();
        assert_eq!(first, Some(1));
        assert_eq!(second, None);
        assert!(
            waited < Duration::from_secs(5),
            "close must wake the waiter"
        );
        assert!(q.is_closed());
        q.push(2);
        assert_eq!(q.dropped(), 1, "push after close is counted as a drop");
        assert!(q.is_empty());
    }
}
