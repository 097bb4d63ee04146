//! The audit log's hash chain on both backends: intact chains verify; an edited, a deleted and
//! a swapped record are each caught at the right place; concurrent appenders keep one chain;
//! records written before the chain existed are chained, not reported.
use serde_json::json;
use xl_store::{AuditProblemKind, AuditRecord, Store};

#[macro_use]
#[path = "support/backends.rs"]
mod backends;
use backends::Backend;

contract!(
    an_intact_chain_verifies_and_lists_by_department,
    an_edited_record_is_caught_where_it_is,
    a_deleted_record_is_caught_where_it_was,
    swapped_records_are_caught_at_the_first,
    concurrent_appenders_keep_one_chain,
    records_from_before_the_chain_are_sealed_not_reported,
);

fn record(i: usize, department: &str) -> AuditRecord {
    AuditRecord {
        actor: format!("user-{}", i % 3),
        department_id: department.into(),
        action: "events.search".into(),
        resource: format!("events?plate=皖S{i:05}"),
        outcome: "ok".into(),
        address: "10.0.0.7".into(),
        detail: json!({"returned": i}),
    }
}

async fn filled(backend: Backend, n: usize) -> (backends::Guard, Store) {
    let (guard, store) = backend.open().await;
    for i in 0..n {
        let dept = if i % 2 == 0 { "police" } else { "traffic" };
        store.audit(&record(i, dept)).await.unwrap();
    }
    (guard, store)
}

/// A store holding ten records, and its URL for tampering.
async fn ten_records(backend: Backend) -> (backends::Guard, String, Store) {
    let (guard, url) = backend.url();
    let store = Store::open(&url).await.unwrap();
    for i in 0..10 {
        store.audit(&record(i, "police")).await.unwrap();
    }
    (guard, url, store)
}

/// Runs raw SQL against the store's database, as someone with database access would.
async fn tamper(backend: Backend, url: &str, sql: &str) {
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            for stmt in sql.split(';').filter(|s| !s.trim().is_empty()) {
                sqlx::query(stmt).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            for stmt in sql.split(';').filter(|s| !s.trim().is_empty()) {
                sqlx::query(stmt).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
    }
}

async fn an_intact_chain_verifies_and_lists_by_department(backend: Backend) {
    let (_g, store) = filled(backend, 25).await;
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert_eq!(verdict.records, 25);
    assert_eq!(verdict.head.as_ref().unwrap().0, 25);
    let police = store
        .audit_records(&xl_store::AuditFilter {
            department_id: Some("police".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(police.len(), 13);
    assert!(police.iter().all(|r| r.record.department_id == "police"));
    assert_eq!(police[1].record.resource, "events?plate=皖S00002");
    assert_eq!(police[1].record.address, "10.0.0.7");
}

async fn an_edited_record_is_caught_where_it_is(backend: Backend) {
    let (_guard, url, store) = ten_records(backend).await;
    tamper(
        backend,
        &url,
        "UPDATE audit_log SET resource = 'events?plate=皖S99999' WHERE seq = 7",
    )
    .await;
    let verdict = store.verify_audit().await.unwrap();
    let problem = verdict.problem.expect("an edit must break the chain");
    assert_eq!((problem.seq, problem.kind), (7, AuditProblemKind::Altered));
    assert_eq!(verdict.records, 6, "records before the edit still verify");
}

async fn a_deleted_record_is_caught_where_it_was(backend: Backend) {
    let (_guard, url, store) = ten_records(backend).await;
    tamper(backend, &url, "DELETE FROM audit_log WHERE seq = 5").await;
    let problem = store.verify_audit().await.unwrap().problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (5, AuditProblemKind::Missing));
    assert!(
        problem.message.contains("record 5 is missing"),
        "{}",
        problem.message
    );
}

async fn swapped_records_are_caught_at_the_first(backend: Backend) {
    let (_guard, url, store) = ten_records(backend).await;
    // Records 3 and 4 trade places: their sequence numbers are exchanged.
    tamper(backend, &url,
        "UPDATE audit_log SET seq = 1000 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 1000",
    )
    .await;
    let problem = store.verify_audit().await.unwrap().problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (3, AuditProblemKind::Altered));
}

async fn concurrent_appenders_keep_one_chain(backend: Backend) {
    let (_g, url) = backend.url();
    let first = Store::open(&url).await.unwrap();
    // Two stores on one database stand for two processes (PostgreSQL serialises them with an
    // advisory lock; SQLite with its write lock and a retry on a taken sequence number).
    let second = Store::open(&url).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..4 {
        let store = if t % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                if i % 5 == 0 {
                    let batch: Vec<_> =
                        (0..3).map(|j| record(t * 100 + i + j, "traffic")).collect();
                    store.audit_batch(&batch).await.unwrap();
                } else {
                    store.audit(&record(t * 100 + i, "traffic")).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let verdict = first.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert_eq!(verdict.records, 4 * (20 + 5 * 3));
}

async fn records_from_before_the_chain_are_sealed_not_reported(backend: Backend) {
    let (_g, url) = backend.url();
    let store = Store::open(&url).await.unwrap();
    tamper(backend, &url,
        "INSERT INTO audit_log (seq, ts_ms, actor, action, resource, outcome, detail) VALUES (1, 1, 'retention', 'delete_events', 'events/hot', 'ok', '{}'); \
         INSERT INTO audit_log (seq, ts_ms, actor, action, resource, outcome, detail) VALUES (2, 2, 'retention', 'delete_events', 'events/hot', 'ok', '{}')",
    )
    .await;
    store.audit(&record(1, "police")).await.unwrap();
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert_eq!(verdict.records, 3);
}
