//! `xl departments|users|grants|tokens|audit` and `xl cameras list|set`: the sharing model
//! from the operator's shell. Every change is audited as `cli:<login>`.
use anyhow::Context;
use chrono::DateTime;
use xl_schema::EventKind;
use xl_store::{AuditFilter, AuditRecord, Masks, NewGrant, Role, Store};

use crate::args::{
    AuditCommand, DepartmentsCommand, GrantsCommand, StoreArgs, TokensCommand, UsersCommand,
};
use crate::output::stdout_line;

/// Opens the store named by `args`, runs `f`, closes the store.
pub(super) fn with_store<T>(
    args: &StoreArgs,
    f: impl AsyncFnOnce(&Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let url = super::store_url(args)?;
    super::tokio_runtime()?.block_on(async {
        let store = Store::open(&url).await?;
        let result = f(&store).await;
        store.close().await;
        result
    })
}

pub(super) fn say(line: &str) -> anyhow::Result<()> {
    Ok(stdout_line(line)?)
}

fn operator() -> String {
    let login = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{login}")
}

pub(super) async fn audit_change(
    store: &Store,
    action: &str,
    resource: String,
) -> anyhow::Result<()> {
    store
        .audit(&AuditRecord {
            actor: operator(),
            action: action.into(),
            resource,
            outcome: "ok".into(),
            ..Default::default()
        })
        .await
        .context("the change was made but could not be audited")
}

pub(super) fn json_lines<T: serde::Serialize>(items: &[T]) -> anyhow::Result<()> {
    for item in items {
        say(&serde_json::to_string(item)?)?;
    }
    Ok(())
}

pub fn departments(command: DepartmentsCommand) -> anyhow::Result<()> {
    match command {
        DepartmentsCommand::Add { store, id, name } => with_store(&store, async |s| {
            s.add_department(&id, name.as_deref().unwrap_or(&id))
                .await?;
            audit_change(s, "department.create", format!("department:{id}")).await?;
            say(&format!("department {id} added"))
        }),
        DepartmentsCommand::List { store } => {
            with_store(&store, async |s| json_lines(&s.departments().await?))
        }
    }
}

pub fn users(command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add {
            store,
            id,
            department,
            role,
        } => {
            let role: Role = role.parse()?;
            with_store(&store, async |s| {
                s.add_user(&id, &department, role).await?;
                audit_change(s, "user.create", format!("user:{id}")).await?;
                say(&format!("user {id} added to {department} as {role}"))
            })
        }
        UsersCommand::List { store } => with_store(&store, async |s| json_lines(&s.users().await?)),
        UsersCommand::Set {
            store,
            id,
            role,
            disable,
            enable,
        } => {
            let role = role.map(|r| r.parse::<Role>()).transpose()?;
            let disabled = (disable || enable).then_some(disable);
            anyhow::ensure!(
                role.is_some() || disabled.is_some(),
                "nothing to change: give --role, --disable or --enable"
            );
            with_store(&store, async |s| {
                s.update_user(&id, role, disabled).await?;
                audit_change(s, "user.update", format!("user:{id}")).await?;
                say(&format!("user {id} updated"))
            })
        }
    }
}

pub fn grants(command: GrantsCommand) -> anyhow::Result<()> {
    match command {
        GrantsCommand::Create {
            store,
            from,
            to,
            level,
            kinds,
            mask_plate,
            mask_evidence,
            expires,
        } => {
            let kinds = kinds
                .iter()
                .map(|k| EventKind::parse(k).with_context(|| format!("unknown event kind {k:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let expires_ms = expires
                .as_deref()
                .map(|t| {
                    DateTime::parse_from_rfc3339(t)
                        .map(|t| t.timestamp_millis())
                        .with_context(|| format!("--expires {t:?} must be an RFC 3339 time"))
                })
                .transpose()?;
            let grant = NewGrant {
                owner_department: from,
                grantee_department: to,
                max_level: level,
                kinds,
                masks: Masks {
                    plate: mask_plate,
                    evidence: mask_evidence,
                },
                expires_ms,
            };
            with_store(&store, async |s| {
                let created = s.create_grant(&grant, &operator()).await?;
                audit_change(s, "grant.create", format!("grant:{}", created.id)).await?;
                say(&serde_json::to_string(&created)?)
            })
        }
        GrantsCommand::List { store } => {
            with_store(&store, async |s| json_lines(&s.grants().await?))
        }
        GrantsCommand::Revoke { store, id } => with_store(&store, async |s| {
            s.revoke_grant(&id).await?;
            audit_change(s, "grant.revoke", format!("grant:{id}")).await?;
            say(&format!("grant {id} revoked"))
        }),
    }
}

pub fn tokens(command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create {
            store,
            user,
            label,
            expires_days,
        } => {
            let expires_ms = expires_days
                .map(|d| chrono::Utc::now().timestamp_millis() + i64::from(d) * 86_400_000);
            with_store(&store, async |s| {
                let issued = s.create_token(&user, &label, expires_ms).await?;
                audit_change(s, "token.create", format!("token:{}", issued.id)).await?;
                // The secret goes to stdout once, for the operator to hand over; never to logs.
                say(&issued.secret)
            })
        }
        TokensCommand::List { store } => {
            with_store(&store, async |s| json_lines(&s.tokens().await?))
        }
        TokensCommand::Revoke { store, id } => with_store(&store, async |s| {
            s.revoke_token(&id).await?;
            audit_change(s, "token.revoke", format!("token:{id}")).await?;
            say(&format!("token {id} revoked"))
        }),
    }
}

/// Exit status 1 when the chain is broken (after printing where).
pub fn audit(command: AuditCommand) -> anyhow::Result<bool> {
    match command {
        AuditCommand::Verify { store } => {
            let verdict = with_store(&store, async |s| Ok(s.verify_audit().await?))?;
            match &verdict.problem {
                None => {
                    let head = verdict
                        .head
                        .as_ref()
                        .map(|(seq, hash)| format!("; head {seq}:{hash}"))
                        .unwrap_or_default();
                    say(&format!(
                        "audit chain intact: {} records{head}",
                        verdict.records
                    ))?;
                    Ok(true)
                }
                Some(p) => {
                    say(&format!(
                        "audit chain BROKEN at record {} ({:?}): {} ({} records verified before it)",
                        p.seq, p.kind, p.message, verdict.records
                    ))?;
                    Ok(false)
                }
            }
        }
        AuditCommand::List {
            store,
            department,
            after,
            limit,
        } => {
            let filter = AuditFilter {
                department_id: department,
                after_seq: after,
                limit,
            };
            with_store(&store, async |s| {
                json_lines(&s.audit_records(&filter).await?)
            })?;
            Ok(true)
        }
    }
}

pub fn cameras_list(store: StoreArgs) -> anyhow::Result<()> {
    with_store(&store, async |s| json_lines(&s.cameras().await?))
}

pub fn cameras_set(
    store: StoreArgs,
    id: String,
    department: Option<String>,
    level: Option<u8>,
) -> anyhow::Result<()> {
    with_store(&store, async |s| {
        let mut camera = s
            .cameras()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .with_context(|| {
                format!("no registered camera {id:?} (cameras register when `xl run` starts)")
            })?;
        if let Some(d) = department {
            camera.department_id = d;
        }
        if let Some(l) = level {
            camera.share_level = l;
        }
        s.upsert_camera(&camera).await?;
        audit_change(s, "camera.update", format!("camera:{id}")).await?;
        say(&serde_json::to_string(&camera)?)
    })
}
