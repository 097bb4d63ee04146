//! Webhook and bus subscriptions and their durable outbox.
//!
//! [`Store::insert_events`] writes one outbox row per (new event, matching active subscription)
//! in the same transaction as the events, and only when the subscription's owner may see the
//! event (the same visibility rule as every API read, evaluated in SQL with the owner's
//! department). The dispatcher (`xl-hooks`) reads pending rows in `seq` order, delivers, and
//! records the outcome here: delivered, retried later, dead after the last attempt, or
//! withheld when the owner lost sight of the event before it went out.
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;
use xl_schema::Event;

use crate::error::query_err;
use crate::store::with_pool;
use crate::{Store, StoreError};

/// A subscription to create.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NewSubscription {
    /// The user it acts for: their department's scope and masks apply to what is sent.
    pub owner_user: String,
    /// `http(s)://...`, `nats://host:port/SUBJECT.PREFIX?stream=NAME` or
    /// `mqtt://host:port/topic/prefix`.
    pub target: String,
    /// Event kinds (`plate_read`, ...); empty is every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Camera ids; empty is every camera.
    #[serde(default)]
    pub cameras: Vec<String>,
    /// Plates, exact or a prefix ending in `*` (`皖S*`); empty is any event, with or without a
    /// plate. A plate filter only matches through grants that do not mask plates.
    #[serde(default)]
    pub plates: Vec<String>,
    /// Deliveries in flight at once to this target (at most one per camera, for ordering).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: u32,
}

fn default_in_flight() -> u32 {
    8
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    Active,
    Paused,
    Deleted,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Active => "active",
            SubscriptionState::Paused => "paused",
            SubscriptionState::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "active" => SubscriptionState::Active,
            "paused" => SubscriptionState::Paused,
            _ => SubscriptionState::Deleted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscription {
    pub id: String,
    pub owner_user: String,
    /// Serialized with any password replaced by `***`.
    #[serde(serialize_with = "redacted")]
    pub target: String,
    pub kinds: Vec<String>,
    pub cameras: Vec<String>,
    pub plates: Vec<String>,
    /// Never serialized: shown once, when the subscription is created.
    #[serde(skip)]
    pub secret: String,
    pub max_in_flight: u32,
    pub state: SubscriptionState,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Subscription {
    /// The subscription as shown to people (no secret, target password redacted) with what
    /// waits in its outbox, from `counts` as [`Store::outbox_counts`] returns them.
    pub fn view(&self, counts: &[(String, OutboxCounts)]) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let waiting = counts
            .iter()
            .find(|(id, _)| *id == self.id)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        v["outbox"] = serde_json::to_value(waiting).unwrap_or_default();
        v
    }
}

fn redacted<S: serde::Serializer>(target: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::redact_url(target))
}

fn filters_match(kinds: &[String], cameras: &[String], plates: &[String], event: &Event) -> bool {
    let kind_ok = kinds.is_empty() || kinds.iter().any(|k| k == event.kind.as_str());
    let camera_ok = cameras.is_empty() || cameras.contains(&event.camera_id);
    let plate_ok = plates.is_empty()
        || event.plate.as_ref().is_some_and(|p| {
            plates.iter().any(|f| match f.strip_suffix('*') {
                Some(prefix) => p.text.starts_with(prefix),
                None => *f == p.text,
            })
        });
    kind_ok && camera_ok && plate_ok
}

/// A pending delivery with the event's stored JSON (None when the event is no longer in the
/// hot store).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub seq: i64,
    pub event_id: Uuid,
    pub camera_id: String,
    pub attempts: u32,
    pub created_ms: i64,
    pub next_attempt_ms: i64,
    pub body: Option<String>,
}

/// A delivery that did not succeed: retried at `next_attempt_ms`, or final.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Retry {
        next_attempt_ms: i64,
    },
    Dead,
    /// The owner no longer sees the event (a grant revoked after it was queued).
    Withheld,
}

/// Outbox rows of one subscription by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Waiting for a first attempt.
    pub pending: i64,
    /// Failed at least once, waiting for the next attempt.
    pub retrying: i64,
    pub dead: i64,
    /// Counted only when asked for (`outbox_counts(true)`): kept delivered rows can be many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<i64>,
}

/// What `redeliver` queues again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeliver {
    /// Every dead letter.
    Dead,
    /// Every delivered or dead event whose time is in [from_ms, to_ms).
    Range { from_ms: i64, to_ms: i64 },
}

/// A live subscription's filters (active or paused: a paused one keeps queueing), read inside
/// the insert transaction.
pub(crate) struct ActiveFilter {
    id: String,
    kinds: Vec<String>,
    cameras: Vec<String>,
    plates: Vec<String>,
}

pub(crate) const ACTIVE_FILTERS_SQL: &str =
    "SELECT id, kinds, cameras, plates FROM hook_subscriptions WHERE state IN ('active', 'paused') ORDER BY id";

pub(crate) fn active_filters(
    rows: Vec<(String, String, String, String)>,
) -> Result<Vec<ActiveFilter>, StoreError> {
    rows.into_iter()
        .map(|(id, kinds, cameras, plates)| {
            Ok(ActiveFilter {
                kinds: json_list_of(&id, &kinds)?,
                cameras: json_list_of(&id, &cameras)?,
                plates: json_list_of(&id, &plates)?,
                id,
            })
        })
        .collect()
}

/// A stored filter list of subscription `id`.
fn json_list_of(id: &str, stored: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(stored).map_err(|source| StoreError::Corrupt {
        id: id.to_string(),
        source,
    })
}

/// One candidate outbox row: (subscription, event, has a plate filter, order in the batch).
pub(crate) type Candidate = (String, Uuid, i64, i64);

/// Which (subscription, new event) pairs pass the filters, in the order the events came.
pub(crate) fn candidates(filters: &[ActiveFilter], events: &[&Event]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for event in events {
        for f in filters {
            if filters_match(&f.kinds, &f.cameras, &f.plates, event) {
                let ord = out.len() as i64;
                out.push((f.id.clone(), event.id, i64::from(!f.plates.is_empty()), ord));
            }
        }
    }
    out
}

/// The part of the outbox insert after the candidate table `p(sub, event_id, plate_filter,
/// ord)`: joins the event and the owner and keeps the pairs the owner may see.
macro_rules! push_outbox_select {
    ($qb:expr, $now_ms:expr) => {{
        $qb.push(" SELECT p.sub, events.id, events.camera_id, events.ts_ms, ")
            .push_bind($now_ms)
            .push(", 'pending', 0, ")
            .push_bind($now_ms)
            .push(
                " FROM p JOIN events ON events.id = p.event_id \
                 JOIN hook_subscriptions s ON s.id = p.sub JOIN users u ON u.id = s.owner_user \
                 WHERE s.state IN ('active', 'paused') AND u.disabled = 0 AND (u.role = 'admin' OR ",
            );
        $crate::scope::push_visible_to!(
            $qb,
            column("u.department_id"),
            $now_ms,
            " AND (p.plate_filter = 0 OR g.mask_plate = 0)"
        );
        $qb.push(") ORDER BY p.ord");
    }};
}
pub(crate) use push_outbox_select;

pub(crate) const OUTBOX_COLUMNS: &str = "INSERT INTO hook_outbox (subscription_id, event_id, camera_id, event_ts_ms, created_ms, state, attempts, next_attempt_ms)";

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

type SubscriptionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
);

const SUBSCRIPTION_COLUMNS: &str = "SELECT id, owner_user, target, kinds, cameras, plates, secret, max_in_flight, state, created_ms, updated_ms FROM hook_subscriptions";

fn subscription_from_row(row: SubscriptionRow) -> Result<Subscription, StoreError> {
    let (id, owner_user, target, kinds, cameras, plates, secret, max_in_flight, state, c, u) = row;
    Ok(Subscription {
        kinds: json_list_of(&id, &kinds)?,
        cameras: json_list_of(&id, &cameras)?,
        plates: json_list_of(&id, &plates)?,
        id,
        owner_user,
        target,
        secret,
        max_in_flight: max_in_flight.clamp(1, i64::from(u32::MAX)) as u32,
        state: SubscriptionState::parse(&state),
        created_ms: c,
        updated_ms: u,
    })
}

impl Store {
    /// Creates an active subscription with a fresh secret (returned once, in the result).
    pub async fn create_subscription(
        &self,
        new: &NewSubscription,
        now_ms: i64,
    ) -> Result<Subscription, StoreError> {
        if new.max_in_flight == 0 || new.max_in_flight > 1024 {
            return Err(StoreError::Invalid(format!(
                "max_in_flight {} is out of range (1-1024)",
                new.max_in_flight
            )));
        }
        if let Some(bad) = new.plates.iter().find(|p| p.is_empty() || *p == "*") {
            return Err(StoreError::Invalid(format!(
                "plate filter {bad:?} matches everything: leave the plate filter out instead"
            )));
        }
        let known_user: Option<i64> = with_pool!(self, pool, _d => {
            sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1")
                .bind(&new.owner_user)
                .fetch_optional(pool)
                .await
                .map_err(query_err("subscription owner"))?
        });
        match known_user {
            None => {
                return Err(StoreError::NotFound {
                    what: "user",
                    id: new.owner_user.clone(),
                })
            }
            Some(d) if d != 0 => {
                return Err(StoreError::Invalid(format!(
                    "user {:?} is disabled",
                    new.owner_user
                )))
            }
            Some(_) => {}
        }
        let sub = Subscription {
            id: format!("hk_{}", random_hex(8)),
            owner_user: new.owner_user.clone(),
            target: new.target.clone(),
            kinds: new.kinds.clone(),
            cameras: new.cameras.clone(),
            plates: new.plates.clone(),
            secret: format!("whsec_{}", random_hex(32)),
            max_in_flight: new.max_in_flight,
            state: SubscriptionState::Active,
            created_ms: now_ms,
            updated_ms: now_ms,
        };
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO hook_subscriptions (id, owner_user, target, kinds, cameras, plates, secret, max_in_flight, state, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9)",
            )
            .bind(&sub.id)
            .bind(&sub.owner_user)
            .bind(&sub.target)
            .bind(json_list(&sub.kinds))
            .bind(json_list(&sub.cameras))
            .bind(json_list(&sub.plates))
            .bind(&sub.secret)
            .bind(i64::from(sub.max_in_flight))
            .bind(now_ms)
            .execute(pool)
            .await
            .map_err(query_err("create subscription"))?;
        });
        Ok(sub)
    }

    /// Every subscription that is not deleted, oldest first.
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = with_pool!(self, pool, _d => {
            sqlx::query_as(&format!("{SUBSCRIPTION_COLUMNS} WHERE state <> 'deleted' ORDER BY created_ms, id"))
                .fetch_all(pool)
                .await
                .map_err(query_err("subscriptions"))?
        });
        rows.into_iter().map(subscription_from_row).collect()
    }

    pub async fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let row: Option<SubscriptionRow> = with_pool!(self, pool, _d => {
            sqlx::query_as(&format!("{SUBSCRIPTION_COLUMNS} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(query_err("subscription"))?
        });
        row.map(subscription_from_row).transpose()
    }

    /// Pauses, resumes or deletes a subscription. Pending deliveries wait while it is paused;
    /// a deleted subscription receives nothing more.
    pub async fn set_subscription_state(
        &self,
        id: &str,
        state: SubscriptionState,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool, _d => {
            sqlx::query("UPDATE hook_subscriptions SET state = $1, updated_ms = $2 WHERE id = $3 AND state <> 'deleted'")
                .bind(state.as_str())
                .bind(now_ms)
                .bind(id)
                .execute(pool)
                .await
                .map_err(query_err("subscription state"))?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: "subscription",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Takes or renews the right to deliver for `id` until `now_ms + ttl_ms`. False when
    /// another dispatcher holds a live lease or the subscription is no longer active.
    pub async fn lease_subscription(
        &self,
        id: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool, _d => {
            sqlx::query(
                "UPDATE hook_subscriptions SET lease_owner = $1, lease_until_ms = $2 \
                 WHERE id = $3 AND state = 'active' \
                 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until_ms < $4)",
            )
            .bind(owner)
            .bind(now_ms + ttl_ms)
            .bind(id)
            .bind(now_ms)
            .execute(pool)
            .await
            .map_err(query_err("lease subscription"))?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Gives a lease back (on a clean shutdown), so another dispatcher takes over at once.
    pub async fn release_subscription(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query("UPDATE hook_subscriptions SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 AND lease_owner = $2")
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await
                .map_err(query_err("release subscription"))?;
        });
        Ok(())
    }

    /// Up to `limit` pending deliveries of `subscription` with `seq` above `after`, by `seq`,
    /// with the events' JSON.
    pub async fn pending_deliveries(
        &self,
        subscription: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(
                "SELECT o.seq, CAST(o.event_id AS TEXT), o.camera_id, o.attempts, o.created_ms, o.next_attempt_ms, e.body \
                 FROM hook_outbox o LEFT JOIN events e ON e.id = o.event_id \
                 WHERE o.subscription_id = $1 AND o.state = 'pending' AND o.seq > $2 ORDER BY o.seq LIMIT $3",
            )
            .bind(subscription)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(query_err("pending deliveries"))?;
            rows.iter()
                .map(|r| {
                    let id: String = r.get(1);
                    Ok(OutboxRow {
                        seq: r.get(0),
                        event_id: Uuid::parse_str(&id).map_err(|e| {
                            StoreError::Invalid(format!("outbox event id {id:?}: {e}"))
                        })?,
                        camera_id: r.get(2),
                        attempts: r.get::<i64, _>(3).clamp(0, i64::from(u32::MAX)) as u32,
                        created_ms: r.get(4),
                        next_attempt_ms: r.get(5),
                        body: r.get(6),
                    })
                })
                .collect()
        })
    }

    /// Marks deliveries done (one statement for the lot).
    pub async fn mark_delivered(&self, seqs: &[i64], now_ms: i64) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool, _d => {
            for chunk in seqs.chunks(5000) {
                let mut qb = QueryBuilder::new("UPDATE hook_outbox SET state = 'delivered', done_ms = ");
                qb.push_bind(now_ms)
                    .push(", attempts = attempts + 1 WHERE state = 'pending' AND seq IN (");
                let mut list = qb.separated(", ");
                for seq in chunk {
                    list.push_bind(*seq);
                }
                qb.push(")");
                qb.build().execute(pool).await.map_err(query_err("mark delivered"))?;
            }
        });
        Ok(())
    }

    /// Records a failed attempt: retried later, dead, or withheld.
    pub async fn mark_failed(
        &self,
        seq: i64,
        failure: &Failure,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (state, next, done) = match failure {
            Failure::Retry { next_attempt_ms } => ("pending", *next_attempt_ms, None),
            Failure::Dead => ("dead", now_ms, Some(now_ms)),
            Failure::Withheld => ("withheld", now_ms, Some(now_ms)),
        };
        let error: String = error.chars().take(500).collect();
        with_pool!(self, pool, _d => {
            sqlx::query(
                "UPDATE hook_outbox SET state = $1, next_attempt_ms = $2, done_ms = $3, last_error = $4, \
                 attempts = attempts + 1 WHERE seq = $5 AND state = 'pending'",
            )
            .bind(state)
            .bind(next)
            .bind(done)
            .bind(error)
            .bind(seq)
            .execute(pool)
            .await
            .map_err(query_err("mark failed"))?;
        });
        Ok(())
    }

    /// Makes every pending delivery of `subscription` due now (its endpoint recovered).
    pub async fn retry_now(&self, subscription: &str, now_ms: i64) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query("UPDATE hook_outbox SET next_attempt_ms = $1 WHERE subscription_id = $2 AND state = 'pending' AND next_attempt_ms > $1")
                .bind(now_ms)
                .bind(subscription)
                .execute(pool)
                .await
                .map_err(query_err("retry now"))?;
        });
        Ok(())
    }

    /// Queues again, as new pending rows after everything already queued, the deliveries
    /// `what` selects; the old rows are kept as `redelivered`. Returns how many were queued.
    pub async fn redeliver(
        &self,
        subscription: &str,
        what: Redeliver,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let (states, from, to) = match what {
            Redeliver::Dead => ("('dead')", i64::MIN, i64::MAX),
            Redeliver::Range { from_ms, to_ms } => ("('delivered', 'dead')", from_ms, to_ms),
        };
        let filter = format!(
            "subscription_id = $1 AND state IN {states} AND event_ts_ms >= $2 AND event_ts_ms < $3"
        );
        with_pool!(self, pool, _d => {
            let mut tx = pool.begin().await.map_err(query_err("begin"))?;
            let queued = sqlx::query(&format!(
                "{OUTBOX_COLUMNS} SELECT subscription_id, event_id, camera_id, event_ts_ms, $4, 'pending', 0, $4 \
                 FROM hook_outbox WHERE {filter} ORDER BY seq"
            ))
            .bind(subscription)
            .bind(from)
            .bind(to)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(query_err("redeliver"))?
            .rows_affected();
            sqlx::query(&format!("UPDATE hook_outbox SET state = 'redelivered' WHERE {filter}"))
                .bind(subscription)
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await
                .map_err(query_err("redeliver"))?;
            tx.commit().await.map_err(query_err("commit"))?;
            self.outbox_changed();
            Ok(queued)
        })
    }

    /// Outbox rows by state for every subscription. Without `finished`, only what is waiting
    /// (pending, retrying, dead) is counted, through the state index: cheap however many
    /// delivered rows are kept; `delivered` and `withheld` are then None.
    pub async fn outbox_counts(
        &self,
        finished: bool,
    ) -> Result<Vec<(String, OutboxCounts)>, StoreError> {
        let only = if finished {
            ""
        } else {
            "WHERE state IN ('pending', 'dead') "
        };
        let sql = format!(
            "SELECT subscription_id, state, CAST(CASE WHEN attempts > 0 THEN 1 ELSE 0 END AS BIGINT), COUNT(*) FROM hook_outbox {only}\
             GROUP BY subscription_id, state, CAST(CASE WHEN attempts > 0 THEN 1 ELSE 0 END AS BIGINT) ORDER BY subscription_id"
        );
        let rows: Vec<(String, String, i64, i64)> = with_pool!(self, pool, _d => {
            sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .map_err(query_err("outbox counts"))?
        });
        let mut out: Vec<(String, OutboxCounts)> = Vec::new();
        for (sub, state, retried, n) in rows {
            if out.last().is_none_or(|(s, _)| *s != sub) {
                let finished_counts = finished.then_some(0);
                out.push((
                    sub,
                    OutboxCounts {
                        delivered: finished_counts,
                        withheld: finished_counts,
                        ..OutboxCounts::default()
                    },
                ));
            }
            let counts = &mut out.last_mut().expect("pushed above").1;
            match (state.as_str(), retried != 0) {
                ("pending", false) => counts.pending += n,
                ("pending", true) => counts.retrying += n,
                ("delivered", _) => *counts.delivered.get_or_insert(0) += n,
                ("dead", _) => counts.dead += n,
                ("withheld", _) => *counts.withheld.get_or_insert(0) += n,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Deletes delivered, withheld and redelivered outbox rows finished before `before_ms`
    /// (dead letters are kept for `xl hooks redeliver --dead`), and every row of deleted
    /// subscriptions. Returns how many went.
    pub async fn prune_outbox(&self, before_ms: i64) -> Result<u64, StoreError> {
        with_pool!(self, pool, _d => {
            let finished = sqlx::query(
                "DELETE FROM hook_outbox WHERE state IN ('delivered', 'withheld', 'redelivered') AND done_ms < $1",
            )
            .bind(before_ms)
            .execute(pool)
            .await
            .map_err(query_err("prune outbox"))?
            .rows_affected();
            let orphaned = sqlx::query(
                "DELETE FROM hook_outbox WHERE subscription_id IN \
                 (SELECT id FROM hook_subscriptions WHERE state = 'deleted')",
            )
            .execute(pool)
            .await
            .map_err(query_err("prune outbox"))?
            .rows_affected();
            Ok(finished + orphaned)
        })
    }

    /// A receiver that changes whenever outbox rows are added in this process, so dispatchers
    /// wake at once instead of at their next poll.
    pub fn outbox_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.outbox.subscribe()
    }

    pub(crate) fn outbox_changed(&self) {
        self.outbox.send_modify(|n| *n = n.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(camera: &str, plate: Option<&str>) -> Event {
        let mut e: Event = serde_json::from_value(serde_json::json!({
            "id": Uuid::now_v7(), "kind": "plate_read", "camera_id": camera,
            "ts": "2026-11-29T10:00:00+08:00",
            "provenance": {"pipeline": "p", "pipeline_sha256": "", "models": {},
                "source": {"kind": "file", "path": "x", "frame": 0}}
        }))
        .expect("event");
        if let Some(p) = plate {
            e.plate = Some(
                serde_json::from_value(serde_json::json!({
                    "text": p, "color": "blue", "confidence": 0.9,
                    "corners": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
                }))
                .expect("plate"),
            );
        }
        e
    }

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn filters_select_kind_camera_and_plate_or_prefix() {
        let e = event("cam-1", Some("皖S12345"));
        assert!(filters_match(&[], &[], &[], &e));
        assert!(filters_match(&list(&["plate_read"]), &[], &[], &e));
        assert!(!filters_match(&list(&["watchlist_hit"]), &[], &[], &e));
        assert!(filters_match(&[], &list(&["cam-2", "cam-1"]), &[], &e));
        assert!(!filters_match(&[], &list(&["cam-2"]), &[], &e));
        assert!(filters_match(&[], &[], &list(&["皖S*"]), &e));
        assert!(filters_match(&[], &[], &list(&["皖S12345"]), &e));
        assert!(!filters_match(&[], &[], &list(&["皖S1234"]), &e));
        assert!(!filters_match(&[], &[], &list(&["皖A*"]), &e));
        // A plate filter never matches an event without a plate.
        assert!(!filters_match(
            &[],
            &[],
            &list(&["皖S*"]),
            &event("cam-1", None)
        ));
    }

    #[test]
    fn candidates_keep_event_order_and_flag_plate_filters() {
        let filters = vec![
            ActiveFilter {
                id: "a".into(),
                kinds: vec![],
                cameras: vec![],
                plates: vec![],
            },
            ActiveFilter {
                id: "b".into(),
                kinds: vec![],
                cameras: list(&["cam-2"]),
                plates: list(&["皖*"]),
            },
        ];
        let (e1, e2) = (event("cam-1", Some("皖S1")), event("cam-2", Some("皖S2")));
        let got = candidates(&filters, &[&e1, &e2]);
        assert_eq!(
            got,
            vec![
                ("a".to_string(), e1.id, 0, 0),
                ("a".to_string(), e2.id, 0, 1),
                ("b".to_string(), e2.id, 1, 2),
            ]
        );
    }
}
