//! The sharing model from the operator's shell: departments, users, grants and tokens are
//! managed with `xl`, every change lands in the audit chain, and `xl audit verify` exits 1 and
//! names the record when someone with database access edits, deletes or swaps records.
mod common;

use std::path::Path;
use std::process::Command;

use common::{run, stderr, stdout, xl};

fn xl_ok(store: &str, args: &[&str]) -> String {
    let out = run(xl().args(args).args(["--store", store]));
    assert!(out.status.success(), "xl {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Runs SQL on the SQLite file as an intruder would (Python's sqlite3 module).
fn tamper(db: &Path, sql: &str) {
    let status = Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()"])
        .arg(db)
        .arg(sql)
        .status()
        .unwrap();
    assert!(status.success());
}

fn verify(store: &str) -> (bool, String) {
    let out = run(xl().args(["audit", "verify", "--store", store]));
    (out.status.success(), stdout(&out))
}

fn fresh_store(dir: &Path) -> String {
    let store = format!("sqlite://{}/xl.db", dir.display());
    xl_ok(&store, &["departments", "add", "police", "--name", "公安"]);
    xl_ok(&store, &["departments", "add", "traffic", "--name", "交警"]);
    xl_ok(
        &store,
        &[
            "users",
            "add",
            "li.wei",
            "--department",
            "police",
            "--role",
            "analyst",
        ],
    );
    xl_ok(
        &store,
        &[
            "users",
            "add",
            "zhang.min",
            "--department",
            "traffic",
            "--role",
            "supervisor",
        ],
    );
    let grant = xl_ok(
        &store,
        &[
            "grants",
            "create",
            "--from",
            "police",
            "--to",
            "traffic",
            "--level",
            "2",
            "--kinds",
            "plate_read,watchlist_hit",
            "--mask-plate",
        ],
    );
    let grant: serde_json::Value = serde_json::from_str(grant.trim()).unwrap();
    xl_ok(&store, &["grants", "revoke", grant["id"].as_str().unwrap()]);
    let token = xl_ok(
        &store,
        &[
            "tokens",
            "create",
            "--user",
            "li.wei",
            "--label",
            "laptop",
            "--expires-days",
            "30",
        ],
    );
    assert!(token.trim().starts_with("xl_"), "{token}");
    let listed = xl_ok(&store, &["tokens", "list"]);
    assert!(
        !listed.contains(token.trim()),
        "token lists never show the secret"
    );
    xl_ok(&store, &["users", "set", "li.wei", "--disable"]);
    store
}

#[test]
fn changes_are_audited_and_the_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path());
    let (ok, text) = verify(&store);
    assert!(ok, "{text}");
    assert!(text.contains("audit chain intact: 8 records"), "{text}");
    let records = xl_ok(&store, &["audit", "list"]);
    let actions: Vec<String> = records
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "department.create",
            "department.create",
            "user.create",
            "user.create",
            "grant.create",
            "grant.revoke",
            "token.create",
            "user.update"
        ]
    );
    let bad = run(xl().args([
        "users",
        "add",
        "x",
        "--department",
        "nowhere",
        "--role",
        "viewer",
        "--store",
        &store,
    ]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("does not exist"), "{}", stderr(&bad));
    let bad_role = run(xl().args([
        "users",
        "add",
        "x",
        "--department",
        "police",
        "--role",
        "boss",
        "--store",
        &store,
    ]));
    assert!(
        stderr(&bad_role).contains("unknown role"),
        "{}",
        stderr(&bad_role)
    );
}

#[test]
fn verify_names_an_edited_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path());
    tamper(
        &dir.path().join("xl.db"),
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5;",
    );
    let (ok, text) = verify(&store);
    assert!(!ok);
    assert!(text.contains("BROKEN at record 5 (Altered)"), "{text}");
}

#[test]
fn verify_names_a_deleted_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path());
    tamper(
        &dir.path().join("xl.db"),
        "DELETE FROM audit_log WHERE seq = 6;",
    );
    let (ok, text) = verify(&store);
    assert!(!ok);
    assert!(text.contains("BROKEN at record 6 (Missing)"), "{text}");
}

#[test]
fn verify_names_swapped_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path());
    tamper(
        &dir.path().join("xl.db"),
        "UPDATE audit_log SET seq = 100 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 100;",
    );
    let (ok, text) = verify(&store);
    assert!(!ok);
    assert!(text.contains("BROKEN at record 3 (Altered)"), "{text}");
}
