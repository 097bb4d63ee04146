//! The dispatcher: one worker per active subscription, each holding a lease on it in the store
//! (so several processes can run dispatchers and each subscription is delivered by one), reading
//! its pending outbox rows into per-camera lanes and delivering each lane's head in order.
//!
//! Guarantees (docs/hooks.md): a row leaves `pending` only after its receiver acknowledged it
//! (or it ran out of time, or its owner lost sight of the event), so a crash at any point means
//! redelivery, never loss; per camera, an event is not sent before the previous one was
//! acknowledged; a slow or dead endpoint only holds up its own subscription.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, info_span, warn, Instrument};
use xl_schema::Event;
use xl_store::{
    masked_event_json, AccessMap, Failure, OutboxRow, Principal, Store, Subscription, Visibility,
};

use crate::backoff::Backoff;
use crate::breaker::{Breaker, Transition};
use crate::sink::{Delivery, DeliveryError, Sink};
use crate::stats::{EndpointStats, HookStats};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    pub backoff: Backoff,
    /// Longest wait for one receiver's answer.
    pub request_timeout: Duration,
    /// How often the outbox is read when nothing signals new rows (other processes' inserts).
    pub poll: Duration,
    /// A worker's lease on its subscription; another process takes over this long after a
    /// crash.
    pub lease_ttl: Duration,
    /// Consecutive failures that open an endpoint's circuit.
    pub breaker_threshold: u32,
    pub breaker_first_cooldown: Duration,
    pub breaker_max_cooldown: Duration,
    /// Pending rows held in memory per subscription.
    pub window: u32,
    /// How often the owner's grants are re-read (masks and visibility at send time).
    pub access_refresh: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            request_timeout: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            lease_ttl: Duration::from_secs(15),
            breaker_threshold: 5,
            breaker_first_cooldown: Duration::from_secs(2),
            breaker_max_cooldown: Duration::from_secs(30),
            window: 5_000,
            access_refresh: Duration::from_secs(10),
        }
    }
}

pub struct Dispatcher {
    store: Store,
    config: DispatchConfig,
    stats: Arc<HookStats>,
    http: reqwest::Client,
    /// This process's lease owner name.
    instance: String,
}

impl Dispatcher {
    pub fn new(store: Store, config: DispatchConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("xueliang-hooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            config,
            stats: Arc::new(HookStats::default()),
            http,
            instance: format!(
                "{}-{}-{}",
                hostname(),
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            ),
        })
    }

    pub fn stats(&self) -> Arc<HookStats> {
        self.stats.clone()
    }

    /// Runs until `cancel`: starts a worker for every active subscription it can lease, and
    /// gives the leases back on the way out.
    pub async fn run(self, cancel: CancellationToken) {
        let this = Arc::new(self);
        let workers = TaskTracker::new();
        let mut running: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        let mut counted: Option<Instant> = None;
        info!(instance = %this.instance, "hook dispatcher started");
        loop {
            running.retain(|_, h| !h.is_finished());
            if counted.is_none_or(|t| t.elapsed() >= COUNT_EVERY) {
                counted = Some(Instant::now());
                match this.store.outbox_counts(false).await {
                    Ok(counts) => this.stats.set_outbox(counts),
                    Err(e) => warn!(error = %e, "cannot count the outbox"),
                }
            }
            match this.store.subscriptions().await {
                Ok(subs) => {
                    for sub in subs {
                        if sub.state != xl_store::SubscriptionState::Active
                            || running.contains_key(&sub.id)
                        {
                            continue;
                        }
                        let now = now_ms();
                        let ttl = this.config.lease_ttl.as_millis() as i64;
                        match this
                            .store
                            .lease_subscription(&sub.id, &this.instance, now, ttl)
                            .await
                        {
                            Ok(true) => {
                                let span = info_span!("hook", subscription = %sub.id);
                                let id = sub.id.clone();
                                let worker = Worker::new(this.clone(), sub, cancel.child_token());
                                running.insert(id, workers.spawn(worker.run().instrument(span)));
                            }
                            Ok(false) => {}
                            Err(e) => {
                                warn!(subscription = %sub.id, error = %e, "cannot lease subscription")
                            }
                        }
                    }
                }
                Err(e) => warn!(error = %e, "cannot list subscriptions"),
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(this.config.poll.max(Duration::from_millis(100)) * 4) => {}
            }
        }
        workers.close();
        workers.wait().await;
        info!("hook dispatcher stopped");
    }
}

/// Acknowledged deliveries are recorded once this many are waiting, or after `RECORD_EVERY`.
const RECORD_BATCH: usize = 256;
const RECORD_EVERY: Duration = Duration::from_millis(50);
/// How often the outbox is counted by state for /metrics.
const COUNT_EVERY: Duration = Duration::from_secs(10);
/// How often the outbox is read from its start rather than after the highest `seq` seen.
const FULL_RELOAD_EVERY: Duration = Duration::from_secs(5);

/// A finished delivery attempt, reported back to its worker.
struct Outcome {
    seq: i64,
    camera: String,
    created_ms: i64,
    result: Result<(), Failed>,
}

enum Failed {
    /// The receiver did not take it: retry or dead letter.
    Delivery(DeliveryError),
    /// Never sent: the owner no longer sees the event.
    Withheld,
    /// Never sent: the event is gone from the hot store.
    Missing,
}

struct Worker {
    dispatcher: Arc<Dispatcher>,
    sub: Subscription,
    cancel: CancellationToken,
    stats: Arc<EndpointStats>,
    breaker: Breaker,
    /// Pending rows by camera, each lane in `seq` order; a lane's first row is its head.
    lanes: BTreeMap<String, BTreeMap<i64, OutboxRow>>,
    /// Every seq held in a lane, in flight, or delivered but not yet recorded.
    known: HashSet<i64>,
    in_flight: HashSet<String>,
    delivered_unrecorded: Vec<i64>,
    access: Option<(Arc<AccessMap>, Instant)>,
    /// The highest `seq` read so far: later reads start after it.
    high_water: i64,
    /// The last read was cut short by the window: more rows are waiting in the store.
    more_pending: bool,
}

impl Worker {
    fn new(dispatcher: Arc<Dispatcher>, sub: Subscription, cancel: CancellationToken) -> Self {
        let c = &dispatcher.config;
        let breaker = Breaker::new(
            c.breaker_threshold,
            c.breaker_first_cooldown,
            c.breaker_max_cooldown,
        );
        let stats = dispatcher.stats.endpoint(&sub.id);
        Self {
            dispatcher,
            sub,
            cancel,
            stats,
            breaker,
            lanes: BTreeMap::new(),
            known: HashSet::new(),
            in_flight: HashSet::new(),
            delivered_unrecorded: Vec::new(),
            access: None,
            high_water: 0,
            more_pending: false,
        }
    }

    async fn run(mut self) {
        let d = self.dispatcher.clone();
        let target = match Target::parse(&self.sub.target) {
            Ok(t) => t,
            Err(e) => {
                warn!(error = %e, "subscription target is unusable; not delivering");
                return;
            }
        };
        let sink = Arc::new(Sink::new(
            target,
            &self.sub.secret,
            d.http.clone(),
            d.config.request_timeout,
            &format!("xl-{}-{}", self.sub.id, std::process::id()),
        ));
        info!(target = %xl_store::redact_url(&self.sub.target), "delivering");
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
        let mut signal = d.store.outbox_signal();
        // New rows were signalled (this process stored events) since the last read.
        let mut signalled = true;
        let mut last_load: Option<Instant> = None;
        let mut last_full_load: Option<Instant> = None;
        let mut last_lease = Instant::now();
        let mut last_record = Instant::now();
        // Renewing is also how a pause or delete is noticed, so it is frequent.
        let renew_every = (d.config.lease_ttl / 3).min(Duration::from_secs(1));
        let tasks = TaskTracker::new();
        loop {
            if last_lease.elapsed() >= renew_every {
                let ttl = d.config.lease_ttl.as_millis() as i64;
                match d
                    .store
                    .lease_subscription(&self.sub.id, &d.instance, now_ms(), ttl)
                    .await
                {
                    Ok(true) => last_lease = Instant::now(),
                    Ok(false) => {
                        info!("subscription paused, deleted or taken over; stopping");
                        break;
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot renew lease");
                        // Past its end another process may have taken over: stop rather
                        // than deliver the same events twice, out of order.
                        if last_lease.elapsed() >= d.config.lease_ttl {
                            break;
                        }
                    }
                }
            }
            while let Ok(outcome) = done_rx.try_recv() {
                self.finish(outcome).await;
            }
            // Acknowledgements are recorded in batches (a crash before that means resending
            // them, which at-least-once allows).
            let recorded = if self.delivered_unrecorded.len() >= RECORD_BATCH
                || last_record.elapsed() >= RECORD_EVERY
            {
                last_record = Instant::now();
                self.record_delivered().await
            } else {
                true
            };
            if recorded {
                let due = last_load.is_none_or(|t| t.elapsed() >= d.config.poll);
                let room = self.known.len() < (d.config.window as usize) / 2;
                if room && (signalled || due || self.more_pending) {
                    // Now and then from the start, for rows committed out of `seq` order by
                    // concurrent writers; otherwise only what is new.
                    let full = last_full_load.is_none_or(|t| t.elapsed() >= FULL_RELOAD_EVERY);
                    self.load(full).await;
                    if full {
                        last_full_load = Some(Instant::now());
                    }
                    last_load = Some(Instant::now());
                    signalled = false;
                }
            }
            self.dispatch(&sink, &tasks, &done_tx).await;
            self.stats.set_in_flight(self.in_flight.len());
            self.stats.set_circuit(self.breaker.label());
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                Some(outcome) = done_rx.recv() => self.finish(outcome).await,
                _ = signal.changed() => signalled = true,
                _ = tokio::time::sleep(d.config.poll) => {}
            }
        }
        // Let deliveries in flight finish and record them, so a clean stop does not resend.
        tasks.close();
        let _ = tokio::time::timeout(d.config.request_timeout, tasks.wait()).await;
        while let Ok(outcome) = done_rx.try_recv() {
            self.finish(outcome).await;
        }
        self.record_delivered().await;
        if let Err(e) = d
            .store
            .release_subscription(&self.sub.id, &d.instance)
            .await
        {
            warn!(error = %e, "cannot release lease");
        }
    }

    /// Records delivered rows in one statement. False while the store cannot be written (the
    /// rows stay in memory and are tried again).
    async fn record_delivered(&mut self) -> bool {
        if self.delivered_unrecorded.is_empty() {
            return true;
        }
        match self
            .dispatcher
            .store
            .mark_delivered(&self.delivered_unrecorded, now_ms())
            .await
        {
            Ok(()) => {
                for seq in self.delivered_unrecorded.drain(..) {
                    self.known.remove(&seq);
                }
                true
            }
            Err(e) => {
                warn!(error = %e, "cannot record deliveries; will retry");
                false
            }
        }
    }

    async fn load(&mut self, full: bool) {
        let room = (self.dispatcher.config.window as usize).saturating_sub(self.known.len());
        let after = if full { 0 } else { self.high_water };
        match self
            .dispatcher
            .store
            .pending_deliveries(&self.sub.id, after, room as u32)
            .await
        {
            Ok(rows) => {
                self.more_pending = rows.len() == room;
                for row in rows {
                    self.high_water = self.high_water.max(row.seq);
                    if self.known.insert(row.seq) {
                        self.lanes
                            .entry(row.camera_id.clone())
                            .or_default()
                            .insert(row.seq, row);
                    }
                }
            }
            Err(e) => warn!(error = %e, "cannot read the outbox"),
        }
    }

    async fn access(&mut self) -> Option<Arc<AccessMap>> {
        let refresh = self.dispatcher.config.access_refresh;
        if let Some((map, at)) = &self.access {
            if at.elapsed() < refresh {
                return Some(map.clone());
            }
        }
        let store = &self.dispatcher.store;
        let owner = match store.users().await {
            Ok(users) => users.into_iter().find(|u| u.id == self.sub.owner_user),
            Err(e) => {
                warn!(error = %e, "cannot read the subscription's owner");
                return self.access.as_ref().map(|(m, _)| m.clone());
            }
        };
        let map = match owner.filter(|u| !u.disabled) {
            // A deleted or disabled owner sees nothing: everything pending is withheld.
            None => AccessMap::default(),
            Some(u) => {
                let principal = Principal {
                    user_id: u.id,
                    token_id: String::new(),
                    department_id: u.department_id,
                    role: u.role,
                };
                match store
                    .access_map(&Visibility::new(principal, now_ms()), None)
                    .await
                {
                    Ok(map) => map,
                    Err(e) => {
                        warn!(error = %e, "cannot read the owner's grants");
                        return self.access.as_ref().map(|(m, _)| m.clone());
                    }
                }
            }
        };
        let map = Arc::new(map);
        self.access = Some((map.clone(), Instant::now()));
        Some(map)
    }

    async fn dispatch(
        &mut self,
        sink: &Arc<Sink>,
        tasks: &TaskTracker,
        done: &mpsc::UnboundedSender<Outcome>,
    ) {
        let max = self.sub.max_in_flight as usize;
        if self.in_flight.len() >= max || self.lanes.is_empty() {
            return;
        }
        let Some(access) = self.access().await else {
            return;
        };
        let now = now_ms();
        let plate_filter = !self.sub.plates.is_empty();
        let ready: Vec<(String, OutboxRow)> = self
            .lanes
            .iter()
            .filter(|(camera, _)| !self.in_flight.contains(*camera))
            .filter_map(|(camera, lane)| {
                let (_, head) = lane.first_key_value()?;
                (head.next_attempt_ms <= now).then(|| (camera.clone(), head.clone()))
            })
            .collect();
        for (camera, row) in ready {
            if self.in_flight.len() >= max {
                break;
            }
            let prepared = prepare(&row, &access, plate_filter);
            // Only real attempts pass the breaker: a withheld row is settled without one (and
            // must not take the half-open circuit's single probe).
            if prepared.is_ok() && !self.breaker.try_acquire(now) {
                break;
            }
            self.in_flight.insert(camera.clone());
            let (sink, done, sub_id) = (sink.clone(), done.clone(), self.sub.id.clone());
            tasks.spawn(async move {
                let result = match prepared {
                    Err(failed) => Err(failed),
                    Ok((kind, body)) => {
                        let delivery = Delivery {
                            subscription_id: sub_id,
                            event_id: row.event_id.to_string(),
                            kind,
                            camera_id: row.camera_id.clone(),
                            body,
                            attempt: row.attempts + 1,
                        };
                        sink.deliver(&delivery).await.map_err(Failed::Delivery)
                    }
                };
                let _ = done.send(Outcome {
                    seq: row.seq,
                    camera,
                    created_ms: row.created_ms,
                    result,
                });
            });
        }
    }

    async fn finish(&mut self, outcome: Outcome) {
        self.in_flight.remove(&outcome.camera);
        let now = now_ms();
        let lane = self.lanes.get_mut(&outcome.camera);
        let Some(row) = lane.and_then(|l| l.get(&outcome.seq).cloned()) else {
            return;
        };
        let store = self.dispatcher.store.clone();
        let remove = |w: &mut Self| {
            if let Some(lane) = w.lanes.get_mut(&outcome.camera) {
                lane.remove(&outcome.seq);
                if lane.is_empty() {
                    w.lanes.remove(&outcome.camera);
                }
            }
        };
        match outcome.result {
            Ok(()) => {
                if self.breaker.on_success() == Transition::Closed {
                    info!("endpoint recovered; retrying everything waiting now");
                    for lane in self.lanes.values_mut() {
                        for r in lane.values_mut() {
                            r.next_attempt_ms = r.next_attempt_ms.min(now);
                        }
                    }
                    if let Err(e) = store.retry_now(&self.sub.id, now).await {
                        warn!(error = %e, "cannot reschedule retries");
                    }
                }
                self.stats.delivered(now - outcome.created_ms);
                self.delivered_unrecorded.push(outcome.seq);
                remove(self);
            }
            Err(Failed::Withheld) | Err(Failed::Missing) => {
                let (failure, why) = match outcome.result {
                    Err(Failed::Withheld) => (
                        Failure::Withheld,
                        "the owner no longer sees this event".to_string(),
                    ),
                    _ => (
                        Failure::Dead,
                        "the event is no longer in the hot store".to_string(),
                    ),
                };
                if failure == Failure::Withheld {
                    self.stats.withheld();
                } else {
                    self.stats.dead();
                }
                match store.mark_failed(outcome.seq, &failure, &why, now).await {
                    Ok(()) => {
                        self.known.remove(&outcome.seq);
                        remove(self);
                    }
                    Err(e) => warn!(error = %e, "cannot record a withheld delivery"),
                }
            }
            Err(Failed::Delivery(error)) => {
                self.stats.failed();
                if self.breaker.on_failure(now) == Transition::Opened {
                    warn!(error = %error, "endpoint failing; circuit open");
                }
                let attempts = row.attempts + 1;
                let next = self.dispatcher.config.backoff.next_attempt_now(
                    attempts,
                    row.created_ms,
                    now,
                    error.retry_after,
                );
                let failure = match next {
                    Some(next_attempt_ms) => Failure::Retry { next_attempt_ms },
                    None => Failure::Dead,
                };
                debug!(seq = outcome.seq, attempts, error = %error, ?failure, "delivery failed");
                match store
                    .mark_failed(outcome.seq, &failure, &error.message, now)
                    .await
                {
                    Ok(()) => match failure {
                        Failure::Retry { next_attempt_ms } => {
                            if let Some(r) = self
                                .lanes
                                .get_mut(&outcome.camera)
                                .and_then(|l| l.get_mut(&outcome.seq))
                            {
                                r.attempts = attempts;
                                r.next_attempt_ms = next_attempt_ms;
                            }
                        }
                        _ => {
                            warn!(event = %row.event_id, error = %error, "delivery is a dead letter");
                            self.stats.dead();
                            self.known.remove(&outcome.seq);
                            remove(self);
                        }
                    },
                    Err(e) => {
                        // Not recorded: retried from memory after a pause, as if it had been.
                        warn!(error = %e, "cannot record a failed delivery");
                        if let Some(r) = self
                            .lanes
                            .get_mut(&outcome.camera)
                            .and_then(|l| l.get_mut(&outcome.seq))
                        {
                            r.next_attempt_ms = now + 1_000;
                        }
                    }
                }
            }
        }
    }
}

/// The body to send for `row` under the owner's current access: the event JSON with masks
/// applied, or why it is not sent.
fn prepare(
    row: &OutboxRow,
    access: &AccessMap,
    plate_filter: bool,
) -> Result<(String, Bytes), Failed> {
    let body = row.body.as_deref().ok_or(Failed::Missing)?;
    let event: Event = serde_json::from_str(body).map_err(|_| Failed::Missing)?;
    let masks = access
        .masks(&event.camera_id, event.kind.as_str(), plate_filter)
        .ok_or(Failed::Withheld)?;
    let json = masked_event_json(&event, masks, &access.withheld_refs(&event));
    let bytes = serde_json::to_vec(&json).map_err(|_| Failed::Missing)?;
    Ok((event.kind.as_str().to_string(), Bytes::from(bytes)))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "host".to_string())
}
