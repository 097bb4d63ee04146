//! What a principal may see: the visibility clause every hot-store read carries, the same rule
//! resolved per camera for data read without SQL (the cold tier), and the field masks.
//!
//! An event is visible when its camera belongs to the principal's department, or when an
//! active grant (not revoked, not expired) from the camera's department to the principal's
//! covers the camera's share level and the event's kind. Admins see everything unmasked. A
//! search by plate only matches through grants that do not mask plates, so a masked plate
//! cannot be found by guessing it.
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;
use xl_schema::{Event, EventDetails};

use crate::error::query_err;
use crate::sharing::{Masks, Principal, Role};
use crate::store::{decode_event, with_pool};
use crate::{Store, StoreError};

/// A read on behalf of `principal` at `now_ms` (grants expire against this time).
#[derive(Debug, Clone)]
pub struct Visibility {
    pub principal: Principal,
    pub now_ms: i64,
    /// The same rule per camera; resolved by [`crate::Tiers`] before reading the cold tier.
    pub(crate) access: Option<Arc<AccessMap>>,
}

impl Visibility {
    pub fn new(principal: Principal, now_ms: i64) -> Self {
        Self {
            principal,
            now_ms,
            access: None,
        }
    }

    pub(crate) fn sees_all(&self) -> bool {
        self.principal.role == Role::Admin
    }
}

/// An item with the masks to apply before it leaves the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped<T> {
    pub item: T,
    pub masks: Masks,
    /// Cameras the item refers to (a cloned plate's other sighting) that the caller may not
    /// see: those references are withheld.
    pub withheld: Vec<String>,
}

/// One way a department sees a camera: its own (all kinds, no masks) or through a grant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Access {
    /// None is every kind.
    kinds: Option<Vec<String>>,
    masks: Masks,
}

/// Per camera, every way the principal sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessMap {
    all: bool,
    cameras: HashMap<String, Vec<Access>>,
}

impl AccessMap {
    /// The masks under which an event of `kind` from `camera` is seen, None when it is not.
    /// Several grants combine field by field (each alone would show that field).
    pub fn masks(&self, camera: &str, kind: &str, plate_search: bool) -> Option<Masks> {
        if self.all {
            return Some(Masks::default());
        }
        self.cameras
            .get(camera)?
            .iter()
            .filter(|a| a.kinds.as_ref().is_none_or(|k| k.iter().any(|k| k == kind)))
            .filter(|a| !(plate_search && a.masks.plate))
            .map(|a| a.masks)
            .reduce(|a, b| Masks {
                plate: a.plate && b.plate,
                evidence: a.evidence && b.evidence,
            })
    }

    /// The least masks under which any event of `camera` is seen, None when none is.
    pub fn camera_masks(&self, camera: &str) -> Option<Masks> {
        if self.all {
            return Some(Masks::default());
        }
        self.cameras
            .get(camera)?
            .iter()
            .map(|a| a.masks)
            .reduce(|a, b| Masks {
                plate: a.plate && b.plate,
                evidence: a.evidence && b.evidence,
            })
    }

    /// Cameras `event` refers to besides its own (a cloned plate's two sightings) whose plate
    /// reads this principal may not see.
    pub fn withheld_refs(&self, event: &Event) -> Vec<String> {
        referenced_cameras(event)
            .filter(|c| self.masks(c, "plate_read", false).is_none())
            .map(str::to_string)
            .collect()
    }
}

/// Appends ` AND (<visible>)` for the events table (unqualified columns `camera_id`, `kind`).
macro_rules! push_visibility {
    ($qb:expr, $vis:expr, $plate_search:expr) => {{
        let vis: &$crate::scope::Visibility = $vis;
        if !vis.sees_all() {
            let dept = vis.principal.department_id.clone();
            $qb.push(" AND ");
            $crate::scope::push_visible_to!(
                $qb,
                bind(dept),
                vis.now_ms,
                if $plate_search {
                    " AND g.mask_plate = 0"
                } else {
                    ""
                }
            );
        }
    }};
}
pub(crate) use push_visibility;

/// Appends `(<events row visible to a department>)`: the department is a bound value
/// (`bind(expr)`) or a column of the enclosing query (`column("u.department_id")`), so API
/// reads and webhook subscriptions share one rule. `$grant_extra` narrows the grants that count
/// (plate searches only match through grants that do not mask plates).
macro_rules! push_visible_to {
    ($qb:expr, $how:ident($dept:expr), $now_ms:expr, $grant_extra:expr) => {{
        $qb.push(
            "(EXISTS (SELECT 1 FROM cameras c WHERE c.id = events.camera_id AND c.department_id = ",
        );
        $crate::scope::push_department!($qb, $how($dept));
        $qb.push(
            ") OR EXISTS (SELECT 1 FROM cameras c JOIN grants g ON g.owner_department = c.department_id \
             JOIN grant_kinds k ON k.grant_id = g.id WHERE c.id = events.camera_id AND g.grantee_department = ",
        );
        $crate::scope::push_department!($qb, $how($dept));
        $qb.push(" AND c.share_level <= g.max_level AND g.revoked_ms IS NULL AND (g.expires_ms IS NULL OR g.expires_ms > ")
            .push_bind($now_ms)
            .push(") AND (k.kind = '*' OR k.kind = events.kind)")
            .push($grant_extra)
            .push("))");
    }};
}
pub(crate) use push_visible_to;

macro_rules! push_department {
    ($qb:expr, bind($dept:expr)) => {
        $qb.push_bind($dept.clone())
    };
    ($qb:expr, column($column:expr)) => {
        $qb.push($column)
    };
}
pub(crate) use push_department;

impl Store {
    /// Every way `vis.principal` sees each camera (restricted to `only` when given).
    pub async fn access_map(
        &self,
        vis: &Visibility,
        only: Option<&[String]>,
    ) -> Result<AccessMap, StoreError> {
        if vis.sees_all() {
            return Ok(AccessMap {
                all: true,
                cameras: HashMap::new(),
            });
        }
        let dept = vis.principal.department_id.clone();
        let rows = with_pool!(self, pool, _d => {
            let mut qb = QueryBuilder::new(
                "SELECT c.id, NULL, 0, 0 FROM cameras c WHERE c.department_id = ",
            );
            qb.push_bind(dept.clone());
            push_only(&mut qb, only);
            qb.push(
                " UNION ALL SELECT c.id, g.id, g.mask_plate, g.mask_evidence FROM cameras c \
                 JOIN grants g ON g.owner_department = c.department_id WHERE g.grantee_department = ",
            )
            .push_bind(dept.clone())
            .push(" AND c.share_level <= g.max_level AND g.revoked_ms IS NULL AND (g.expires_ms IS NULL OR g.expires_ms > ")
            .push_bind(vis.now_ms)
            .push(")");
            push_only(&mut qb, only);
            let rows = qb.build().fetch_all(pool).await.map_err(query_err("access map"))?;
            rows.iter()
                .map(|r| {
                    (
                        r.get::<String, _>(0),
                        r.get::<Option<String>, _>(1),
                        r.get::<i64, _>(2) != 0,
                        r.get::<i64, _>(3) != 0,
                    )
                })
                .collect::<Vec<_>>()
        });
        let kinds: Vec<(String, String)> = with_pool!(self, pool, _d => {
            sqlx::query_as(
                "SELECT k.grant_id, k.kind FROM grant_kinds k JOIN grants g ON g.id = k.grant_id \
                 WHERE g.grantee_department = $1 AND g.revoked_ms IS NULL",
            )
            .bind(&dept)
            .fetch_all(pool)
            .await
            .map_err(query_err("access map kinds"))?
        });
        let mut by_grant: HashMap<String, Vec<String>> = HashMap::new();
        for (grant, kind) in kinds {
            by_grant.entry(grant).or_default().push(kind);
        }
        let mut cameras: HashMap<String, Vec<Access>> = HashMap::new();
        for (camera, grant, plate, evidence) in rows {
            let kinds = match grant {
                None => None,
                Some(g) => {
                    let kinds = by_grant.get(&g).cloned().unwrap_or_default();
                    if kinds.iter().any(|k| k == "*") {
                        None
                    } else {
                        Some(kinds)
                    }
                }
            };
            cameras.entry(camera).or_default().push(Access {
                kinds,
                masks: Masks { plate, evidence },
            });
        }
        Ok(AccessMap {
            all: false,
            cameras,
        })
    }

    /// Masks for each event, from the access of the cameras these events come from.
    pub(crate) async fn scope_events(
        &self,
        vis: &Visibility,
        events: Vec<Event>,
        plate_search: bool,
    ) -> Result<Vec<Scoped<Event>>, StoreError> {
        let map = match &vis.access {
            Some(map) => map.clone(),
            None => {
                let mut ids: Vec<String> = events
                    .iter()
                    .flat_map(|e| {
                        std::iter::once(e.camera_id.as_str()).chain(referenced_cameras(e))
                    })
                    .map(str::to_string)
                    .collect();
                ids.sort();
                ids.dedup();
                Arc::new(self.access_map(vis, Some(&ids)).await?)
            }
        };
        // Every event here passed the visibility rule in its query; one that no longer does
        // (a grant revoked between the two reads) is dropped rather than shown unmasked.
        Ok(events
            .into_iter()
            .filter_map(|e| {
                let masks = map.masks(&e.camera_id, e.kind.as_str(), plate_search)?;
                let withheld = map.withheld_refs(&e);
                Some(Scoped {
                    item: e,
                    masks,
                    withheld,
                })
            })
            .collect())
    }

    /// One hot event by id, if `vis` sees it.
    pub async fn event_visible(
        &self,
        vis: &Visibility,
        id: Uuid,
    ) -> Result<Option<Scoped<Event>>, StoreError> {
        let body: Option<String> = with_pool!(self, pool, d => {
            let mut qb = QueryBuilder::new("SELECT body FROM events WHERE id = CAST(");
            qb.push_bind(id.to_string()).push(format!(" AS {})", d.id_type));
            push_visibility!(qb, vis, false);
            qb.build()
                .fetch_optional(pool)
                .await
                .map_err(query_err("event by id"))?
                .map(|r| r.get(0))
        });
        let Some(body) = body else { return Ok(None) };
        let event = decode_event(id.to_string(), body)?;
        Ok(self.scope_events(vis, vec![event], false).await?.pop())
    }
}

fn push_only<'a, DB: sqlx::Database>(qb: &mut QueryBuilder<'a, DB>, only: Option<&[String]>)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let Some(ids) = only else { return };
    if ids.is_empty() {
        qb.push(" AND 1 = 0");
        return;
    }
    qb.push(" AND c.id IN (");
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(id.clone());
    }
    qb.push(")");
}

/// Cameras named in an event's details (a cloned plate's two sightings).
fn referenced_cameras(event: &Event) -> impl Iterator<Item = &str> {
    let refs = match &event.details {
        Some(EventDetails::ClonedPlate { earlier, later, .. }) => vec![earlier, later],
        _ => Vec::new(),
    };
    refs.into_iter().map(|r| r.camera_id.as_str())
}

/// The event as JSON with `masks` applied: a masked plate keeps its first two characters and
/// its last (皖S****5) wherever its text appears, evidence images are withheld (they show the
/// plate, which is not blurred), and references to sightings on `withheld` cameras are
/// replaced by `{"withheld": true}`.
pub fn masked_event_json(event: &Event, masks: Masks, withheld: &[String]) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(details) = value.get_mut("details").and_then(Value::as_object_mut) {
        for side in ["earlier", "later"] {
            let hidden = details
                .get(side)
                .and_then(|r| r.get("camera_id"))
                .and_then(Value::as_str)
                .is_some_and(|c| withheld.iter().any(|w| w == c));
            if hidden {
                details.insert(side.into(), serde_json::json!({"withheld": true}));
            }
        }
    }
    if masks.plate || masks.evidence {
        if let Some(obj) = value.as_object_mut() {
            obj.insert("evidence".into(), Value::Array(Vec::new()));
        }
    }
    if masks.plate {
        if let Some(text) = event.plate.as_ref().map(|p| p.text.clone()) {
            if !text.is_empty() {
                let masked = mask_plate_text(&text);
                replace_in_strings(&mut value, &text, &masked);
            }
        }
        if let Some(obj) = value.get_mut("plate").and_then(Value::as_object_mut) {
            // Alternative readings would give the plate away.
            obj.remove("candidates");
        }
    }
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "masks".into(),
            serde_json::to_value(masks).unwrap_or(Value::Null),
        );
    }
    value
}

/// 皖S12345 -> 皖S****5.
pub fn mask_plate_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 3 {
        return "*".repeat(chars.len());
    }
    let last = chars.len() - 1;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 2 || i == last { *c } else { '*' })
        .collect()
}

fn replace_in_strings(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| replace_in_strings(v, from, to)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| replace_in_strings(v, from, to)),
        _ => {}
    }
}

/// Whether a query searches by plate (and so must not match through plate-masking grants).
pub(crate) fn is_plate_search(plate: Option<&str>, prefix: Option<&str>) -> bool {
    plate.is_some() || prefix.is_some_and(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_keep_province_letter_and_last_character() {
        assert_eq!(mask_plate_text("皖S12345"), "皖S****5");
        assert_eq!(mask_plate_text("皖SD12345"), "皖S*****5");
        assert_eq!(mask_plate_text("AB"), "**");
    }

    #[test]
    fn grants_combine_field_by_field_and_plate_search_skips_masked_grants() {
        let masked = |plate, evidence| Access {
            kinds: None,
            masks: Masks { plate, evidence },
        };
        let mut map = AccessMap::default();
        map.cameras.insert(
            "cam-1".into(),
            vec![
                masked(true, false),
                Access {
                    kinds: Some(vec!["overload".into()]),
                    masks: Masks {
                        plate: false,
                        evidence: true,
                    },
                },
            ],
        );
        assert_eq!(
            map.masks("cam-1", "plate_read", false),
            Some(Masks {
                plate: true,
                evidence: false
            })
        );
        assert_eq!(
            map.masks("cam-1", "overload", false),
            Some(Masks {
                plate: false,
                evidence: false
            })
        );
        assert_eq!(map.masks("cam-1", "plate_read", true), None);
        assert_eq!(map.masks("cam-2", "plate_read", false), None);
    }
}
