//! The sharing model (分用户、分级、分权限): departments, cameras with an owner and a share
//! level, users with a role, grants between departments, and bearer tokens.
use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use xl_schema::EventKind;

use crate::error::query_err;
use crate::store::with_pool;
use crate::{Store, StoreError};

/// What a user may do, within what their department can see. Admins administer the whole
/// system and see every camera unmasked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Live feed, event search and detail, cameras.
    Viewer,
    /// + evidence downloads, plate trajectories, WIM intake.
    Analyst,
    /// + review of violations and the department's audit log.
    Supervisor,
    /// + users, cameras, grants, tokens and the whole audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown role {s:?}: expected viewer, analyst, supervisor or admin"
                ))
            })
    }
}

/// Who is asking: resolved from a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: String,
    /// The token this request came with ("" for the operator's CLI).
    pub token_id: String,
    pub department_id: String,
    pub role: Role,
}

/// Fields hidden from a department that sees a camera through a grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Masks {
    /// Plate text partly masked (皖S***5); plate crops withheld; plate search does not match.
    pub plate: bool,
    /// No evidence images.
    pub evidence: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Department {
    pub id: String,
    pub name: String,
}

/// A camera as the sharing model knows it (no stream URL: those are secrets in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraRecord {
    pub id: String,
    pub name: String,
    pub department_id: String,
    /// 1 open ... 3 restricted.
    pub share_level: u8,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: String,
    pub department_id: String,
    pub role: Role,
    pub disabled: bool,
}

/// A grant to create.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NewGrant {
    /// The department whose cameras are shared.
    pub owner_department: String,
    /// The department that may see them.
    pub grantee_department: String,
    /// Cameras up to this share level (1-3).
    pub max_level: u8,
    /// Event kinds covered; empty is every kind.
    #[serde(default)]
    pub kinds: Vec<EventKind>,
    #[serde(default)]
    pub masks: Masks,
    /// Unix ms after which the grant no longer applies.
    #[serde(default)]
    pub expires_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub id: String,
    pub owner_department: String,
    pub grantee_department: String,
    pub max_level: u8,
    /// Empty is every kind.
    pub kinds: Vec<String>,
    pub masks: Masks,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub created_ms: i64,
    pub created_by: String,
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// A new token: `secret` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: String,
    pub secret: String,
}

/// Bearer tokens look like `xl_<id>_<secret>`: the id finds the row, the secret's SHA-256 is
/// compared with the stored one.
const TOKEN_PREFIX: &str = "xl_";

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Equal without an early exit, so response time says nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `xl_<id>_<secret>`; None for anything else.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex_ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex_ok(id, 16) && hex_ok(secret, 64)).then_some((id, secret))
}

fn valid_id(what: &'static str, id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "invalid {what} id {id:?}: 1-64 letters, digits, '-', '_' or '.'"
        )))
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Maps a unique-key violation to `Conflict`, anything else to a query error.
fn insert_err(what: &'static str, id: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let id = id.to_string();
    move |source| match &source {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what, id },
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Invalid(format!(
            "{what} {id:?} refers to a department or user that does not exist"
        )),
        _ => StoreError::Query {
            context: what,
            source,
        },
    }
}

impl Store {
    /// Adds a department; `Conflict` if the id exists.
    pub async fn add_department(&self, id: &str, name: &str) -> Result<(), StoreError> {
        valid_id("department", id)?;
        with_pool!(self, pool, _d => {
            sqlx::query("INSERT INTO departments (id, name, created_ms) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(name)
                .bind(now_ms())
                .execute(pool)
                .await
                .map_err(insert_err("department", id))?;
            Ok(())
        })
    }

    /// Adds the department if it is missing (named after its id).
    pub async fn ensure_department(&self, id: &str) -> Result<(), StoreError> {
        valid_id("department", id)?;
        with_pool!(self, pool, _d => {
            sqlx::query("INSERT INTO departments (id, name, created_ms) VALUES ($1, $1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(id)
                .bind(now_ms())
                .execute(pool)
                .await
                .map_err(query_err("ensure department"))?;
            Ok(())
        })
    }

    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query("SELECT id, name FROM departments ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(query_err("departments"))?;
            Ok(rows.iter().map(|r| Department { id: r.get(0), name: r.get(1) }).collect())
        })
    }

    /// Registers a camera or updates its owner, share level, name and position.
    pub async fn upsert_camera(&self, camera: &CameraRecord) -> Result<(), StoreError> {
        valid_id("camera", &camera.id)?;
        if !(1..=3).contains(&camera.share_level) {
            return Err(StoreError::Invalid(format!(
                "camera {}: share level {} is not 1, 2 or 3",
                camera.id, camera.share_level
            )));
        }
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO cameras (id, name, department_id, share_level, lat, lon, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, department_id = excluded.department_id, \
                 share_level = excluded.share_level, lat = excluded.lat, lon = excluded.lon, \
                 updated_ms = excluded.updated_ms",
            )
            .bind(&camera.id)
            .bind(&camera.name)
            .bind(&camera.department_id)
            .bind(i64::from(camera.share_level))
            .bind(camera.lat)
            .bind(camera.lon)
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(insert_err("camera", &camera.id))?;
            Ok(())
        })
    }

    /// Every registered camera, by id.
    pub async fn cameras(&self) -> Result<Vec<CameraRecord>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query("SELECT id, name, department_id, share_level, lat, lon FROM cameras ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(query_err("cameras"))?;
            Ok(rows.iter().map(camera_from_row).collect())
        })
    }

    pub async fn add_user(
        &self,
        id: &str,
        department_id: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        valid_id("user", id)?;
        with_pool!(self, pool, _d => {
            sqlx::query("INSERT INTO users (id, department_id, role, disabled, created_ms) VALUES ($1, $2, $3, 0, $4)")
                .bind(id)
                .bind(department_id)
                .bind(role.as_str())
                .bind(now_ms())
                .execute(pool)
                .await
                .map_err(insert_err("user", id))?;
            Ok(())
        })
    }

    /// Changes a user's role or disables/enables them; `NotFound` for an unknown user.
    pub async fn update_user(
        &self,
        id: &str,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            let done = sqlx::query(
                "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled) WHERE id = $1",
            )
            .bind(id)
            .bind(role.map(Role::as_str))
            .bind(disabled.map(i64::from))
            .execute(pool)
            .await
            .map_err(query_err("update user"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "user", id: id.to_string() });
            }
            Ok(())
        })
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query("SELECT id, department_id, role, disabled FROM users ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(query_err("users"))?;
            rows.iter()
                .map(|r| {
                    Ok(User {
                        id: r.get(0),
                        department_id: r.get(1),
                        role: r.get::<String, _>(2).parse()?,
                        disabled: r.get::<i64, _>(3) != 0,
                    })
                })
                .collect()
        })
    }

    /// Creates a grant; returns it with its new id.
    pub async fn create_grant(
        &self,
        grant: &NewGrant,
        created_by: &str,
    ) -> Result<Grant, StoreError> {
        if !(1..=3).contains(&grant.max_level) {
            return Err(StoreError::Invalid(format!(
                "grant level {} is not 1, 2 or 3",
                grant.max_level
            )));
        }
        if grant.owner_department == grant.grantee_department {
            return Err(StoreError::Invalid(
                "a department already sees its own cameras; grant to another department".into(),
            ));
        }
        let id = format!("g-{}", random_hex(8));
        let mut kinds: Vec<String> = grant.kinds.iter().map(|k| k.as_str().to_string()).collect();
        kinds.sort();
        kinds.dedup();
        let stored_kinds = if kinds.is_empty() {
            vec!["*".to_string()]
        } else {
            kinds.clone()
        };
        let created_ms = now_ms();
        with_pool!(self, pool, _d => {
            let mut tx = pool.begin().await.map_err(query_err("begin"))?;
            sqlx::query(
                "INSERT INTO grants (id, owner_department, grantee_department, max_level, mask_plate, \
                 mask_evidence, expires_ms, revoked_ms, created_ms, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)",
            )
            .bind(&id)
            .bind(&grant.owner_department)
            .bind(&grant.grantee_department)
            .bind(i64::from(grant.max_level))
            .bind(i64::from(grant.masks.plate))
            .bind(i64::from(grant.masks.evidence))
            .bind(grant.expires_ms)
            .bind(created_ms)
            .bind(created_by)
            .execute(&mut *tx)
            .await
            .map_err(insert_err("grant", &id))?;
            for kind in &stored_kinds {
                sqlx::query("INSERT INTO grant_kinds (grant_id, kind) VALUES ($1, $2)")
                    .bind(&id)
                    .bind(kind)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("grant kinds"))?;
            }
            tx.commit().await.map_err(query_err("commit grant"))?;
        });
        Ok(Grant {
            id,
            owner_department: grant.owner_department.clone(),
            grantee_department: grant.grantee_department.clone(),
            max_level: grant.max_level,
            kinds,
            masks: grant.masks,
            expires_ms: grant.expires_ms,
            revoked_ms: None,
            created_ms,
            created_by: created_by.to_string(),
        })
    }

    /// Revokes a grant from now on; `NotFound` if unknown or already revoked.
    pub async fn revoke_grant(&self, id: &str) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            let done = sqlx::query("UPDATE grants SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL")
                .bind(id)
                .bind(now_ms())
                .execute(pool)
                .await
                .map_err(query_err("revoke grant"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "active grant", id: id.to_string() });
            }
            Ok(())
        })
    }

    /// Every grant (revoked and expired ones too), by creation time.
    pub async fn grants(&self) -> Result<Vec<Grant>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(
                "SELECT id, owner_department, grantee_department, max_level, mask_plate, mask_evidence, \
                 expires_ms, revoked_ms, created_ms, created_by FROM grants ORDER BY created_ms, id",
            )
            .fetch_all(pool)
            .await
            .map_err(query_err("grants"))?;
            let kinds = sqlx::query("SELECT grant_id, kind FROM grant_kinds ORDER BY grant_id, kind")
                .fetch_all(pool)
                .await
                .map_err(query_err("grant kinds"))?;
            Ok(rows
                .iter()
                .map(|r| {
                    let id: String = r.get(0);
                    let kinds = kinds
                        .iter()
                        .filter(|k| k.get::<String, _>(0) == id)
                        .map(|k| k.get::<String, _>(1))
                        .filter(|k| k != "*")
                        .collect();
                    Grant {
                        id,
                        owner_department: r.get(1),
                        grantee_department: r.get(2),
                        max_level: r.get::<i64, _>(3).clamp(1, 3) as u8,
                        kinds,
                        masks: Masks {
                            plate: r.get::<i64, _>(4) != 0,
                            evidence: r.get::<i64, _>(5) != 0,
                        },
                        expires_ms: r.get(6),
                        revoked_ms: r.get(7),
                        created_ms: r.get(8),
                        created_by: r.get(9),
                    }
                })
                .collect())
        })
    }

    /// Issues a bearer token for `user_id`; only its hash is stored.
    pub async fn create_token(
        &self,
        user_id: &str,
        label: &str,
        expires_ms: Option<i64>,
    ) -> Result<IssuedToken, StoreError> {
        let id = random_hex(8);
        let secret_part = random_hex(32);
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, secret_sha256, label, created_ms, expires_ms, revoked_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, NULL)",
            )
            .bind(&id)
            .bind(user_id)
            .bind(sha256_hex(&secret_part))
            .bind(label)
            .bind(now_ms())
            .bind(expires_ms)
            .execute(pool)
            .await
            .map_err(insert_err("token", user_id))?;
        });
        Ok(IssuedToken {
            secret: format!("{TOKEN_PREFIX}{id}_{secret_part}"),
            id,
        })
    }

    /// Revokes a token from now on; `NotFound` if unknown or already revoked.
    pub async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            let done = sqlx::query("UPDATE api_tokens SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL")
                .bind(id)
                .bind(now_ms())
                .execute(pool)
                .await
                .map_err(query_err("revoke token"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "active token", id: id.to_string() });
            }
            Ok(())
        })
    }

    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(
                "SELECT id, user_id, label, created_ms, expires_ms, revoked_ms FROM api_tokens ORDER BY created_ms, id",
            )
            .fetch_all(pool)
            .await
            .map_err(query_err("tokens"))?;
            Ok(rows
                .iter()
                .map(|r| TokenInfo {
                    id: r.get(0),
                    user_id: r.get(1),
                    label: r.get(2),
                    created_ms: r.get(3),
                    expires_ms: r.get(4),
                    revoked_ms: r.get(5),
                })
                .collect())
        })
    }

    /// The principal a bearer token stands for, or None when the token is malformed, unknown,
    /// revoked, expired, or its user disabled.
    pub async fn authenticate(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<Principal>, StoreError> {
        let Some((id, secret)) = split_token(token) else {
            return Ok(None);
        };
        type TokenRow = (
            String,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let row: Option<TokenRow> = with_pool!(self, pool, _d => {
            sqlx::query_as(
                "SELECT t.secret_sha256, u.id, u.department_id, u.role, u.disabled, t.expires_ms, t.revoked_ms \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(query_err("authenticate"))?
        });
        let Some((hash, user_id, department_id, role, disabled, expires, revoked)) = row else {
            return Ok(None);
        };
        let secret_ok = constant_time_eq(sha256_hex(secret).as_bytes(), hash.as_bytes());
        let live = disabled == 0 && revoked.is_none() && expires.is_none_or(|e| e > now_ms);
        if !(secret_ok && live) {
            return Ok(None);
        }
        Ok(Some(Principal {
            user_id,
            token_id: id.to_string(),
            department_id,
            role: role.parse()?,
        }))
    }
}

pub(crate) fn camera_from_row<R: Row>(r: &R) -> CameraRecord
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<f64>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    CameraRecord {
        id: r.get(0),
        name: r.get(1),
        department_id: r.get(2),
        share_level: r.get::<i64, _>(3).clamp(1, 3) as u8,
        lat: r.get(4),
        lon: r.get(5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_only_in_their_exact_shape() {
        let id = "0123456789abcdef";
        let secret = "a".repeat(64);
        assert_eq!(
            split_token(&format!("xl_{id}_{secret}")),
            Some((id, secret.as_str()))
        );
        assert_eq!(split_token(&format!("xl_{id}_{}", &secret[1..])), None);
        assert_eq!(split_token(&format!("yl_{id}_{secret}")), None);
        assert_eq!(split_token(&format!("xl_{id}{secret}")), None);
        assert_eq!(split_token(""), None);
    }

    #[test]
    fn ids_are_plain_names() {
        assert!(valid_id("user", "traffic-police.01").is_ok());
        assert!(valid_id("user", "交警").is_ok());
        assert!(valid_id("user", "").is_err());
        assert!(valid_id("user", "a b").is_err());
        assert!(valid_id("user", "x'; DROP TABLE users;--").is_err());
    }
}
