//! Analysts' decisions on violation events: confirmed, or dismissed with a reason.
//!
//! Reviews live beside the events, not in them, so an event in the cold tier is reviewed the same
//! way as a hot one and a changed decision keeps its history (the latest review is the current
//! decision). Who may review what is decided by the caller (the API checks scope and role).
use chrono::{DateTime, FixedOffset, TimeZone};
use serde::Serialize;
use uuid::Uuid;
use xl_schema::{china_offset, EventKind};

use crate::error::query_err;
use crate::store::with_pool;
use crate::{Store, StoreError};

/// Longest reason kept; a review is a note, not a report.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The violation is real and goes on to enforcement.
    Confirm,
    /// Not a violation (a misread plate, a permitted vehicle...); the reason says why.
    Dismiss,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirm => "confirm",
            Decision::Dismiss => "dismiss",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirm" => Some(Decision::Confirm),
            "dismiss" => Some(Decision::Dismiss),
            _ => None,
        }
    }
}

/// Whether events of `kind` are violations an analyst decides on (plate reads and flow counts
/// are observations, not accusations).
pub fn is_reviewable(kind: EventKind) -> bool {
    !matches!(kind, EventKind::PlateRead | EventKind::FlowCount)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub decision: Decision,
    pub reason: String,
    pub user_id: String,
    pub department_id: String,
    pub at: DateTime<FixedOffset>,
}

impl Review {
    /// Checks the reason: a dismissal must say why, and no reason may exceed
    /// [`MAX_REASON_CHARS`].
    pub fn validate(&self) -> Result<(), StoreError> {
        let chars = self.reason.chars().count();
        if chars > MAX_REASON_CHARS {
            return Err(StoreError::Invalid(format!(
                "reason is {chars} characters; at most {MAX_REASON_CHARS}"
            )));
        }
        if self.decision == Decision::Dismiss && self.reason.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a dismissal needs a reason".to_string(),
            ));
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    decision: String,
    reason: String,
    user_id: String,
    department_id: String,
    at_ms: i64,
}

impl Store {
    /// Records `review` of event `event_id` (which the caller has found in scope).
    pub async fn add_review(&self, event_id: Uuid, review: &Review) -> Result<(), StoreError> {
        review.validate()?;
        let id = event_id.to_string();
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO event_reviews (event_id, decision, reason, user_id, department_id, at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(review.decision.as_str())
            .bind(review.reason.trim())
            .bind(&review.user_id)
            .bind(&review.department_id)
            .bind(review.at.timestamp_millis())
            .execute(pool)
            .await
            .map_err(query_err("add review"))?;
        });
        Ok(())
    }

    /// The reviews of event `event_id`, oldest first (the last is the current decision).
    pub async fn reviews(&self, event_id: Uuid) -> Result<Vec<Review>, StoreError> {
        let id = event_id.to_string();
        let rows: Vec<ReviewRow> = with_pool!(self, pool, _d => {
            sqlx::query_as(
                "SELECT decision, reason, user_id, department_id, at_ms FROM event_reviews \
                 WHERE event_id = $1 ORDER BY seq",
            )
            .bind(&id)
            .fetch_all(pool)
            .await
            .map_err(query_err("reviews"))?
        });
        rows.into_iter()
            .map(|r| {
                let decision =
                    Decision::parse(&r.decision).ok_or_else(|| StoreError::CorruptRow {
                        table: "event_reviews",
                        detail: format!("event {event_id}: decision {:?}", r.decision),
                    })?;
                let at = china_offset()
                    .timestamp_millis_opt(r.at_ms)
                    .single()
                    .ok_or_else(|| StoreError::CorruptRow {
                        table: "event_reviews",
                        detail: format!("event {event_id}: time {}", r.at_ms),
                    })?;
                Ok(Review {
                    decision,
                    reason: r.reason,
                    user_id: r.user_id,
                    department_id: r.department_id,
                    at,
                })
            })
            .collect()
    }
}
