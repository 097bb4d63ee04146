//! The command view in a real browser: `xl demo` with two simulated cameras serves the page, and
//! tests/browser/command_view.mjs drives Debian's Chromium (playwright-core) through sign-in,
//! the live feed, evidence, plate search and trajectory, a review, the language switch, and a
//! user of another department who must see none of it. Screenshots of each step are kept in
//! test-artifacts/command-view/.
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, repo_root, run, stderr, stdout, wait_for_port, xl, Background};
use xl_schema::EventKind;

fn xl_ok(store: &str, args: &[&str]) -> String {
    let out = run(xl().args(args).args(["--store", store]));
    assert!(out.status.success(), "xl {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Waits until the demo has stored a violation (the page test confirms one).
fn wait_for_violation(store: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let out = run(xl().args([
            "events", "query", "--store", store, "--format", "jsonl", "--limit", "100000",
        ]));
        let found = stdout(&out).lines().any(|l| {
            serde_json::from_str::<xl_schema::Event>(l)
                .is_ok_and(|e| !matches!(e.kind, EventKind::PlateRead | EventKind::FlowCount))
        });
        if found {
            return true;
        }
        std::thread::sleep(Duration::from_secs(3));
    }
    false
}

fn wait_for_file(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if path.is_file() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn command_view_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (rtsp, api) = (free_port(), free_port());
    let store = format!("sqlite://{}/xl.db", d.display());
    let mut demo_cmd = xl();
    demo_cmd
        .args(["demo", "--cameras", "2", "--seed", "7", "--duration", "900"])
        .args(["--port", &rtsp.to_string()])
        .args(["--listen", &format!("127.0.0.1:{api}")])
        .args(["--store", &store])
        .arg("--evidence")
        .arg(d.join("evidence"))
        .arg("--world")
        .arg(d.join("world"))
        .arg("--truth")
        .arg(d.join("truth.jsonl"));
    let mut demo = Background::spawn(demo_cmd, d.join("demo.log"));
    assert!(
        wait_for_port(api, Duration::from_secs(300)),
        "the demo's API did not start:\n{}",
        demo.log_text()
    );
    assert!(
        wait_for_file(&d.join("demo-token"), Duration::from_secs(60)),
        "no demo token:\n{}",
        demo.log_text()
    );

    // An analyst of the traffic police who also sees the police's cameras, and an analyst of
    // urban management with no cameras and no grant.
    xl_ok(&store, &["departments", "add", "urban", "--name", "城管"]);
    xl_ok(
        &store,
        &[
            "users",
            "add",
            "li.wei",
            "--department",
            "traffic",
            "--role",
            "analyst",
        ],
    );
    xl_ok(
        &store,
        &[
            "grants", "create", "--from", "police", "--to", "traffic", "--level", "3",
        ],
    );
    let token = xl_ok(&store, &["tokens", "create", "--user", "li.wei"]);
    xl_ok(
        &store,
        &[
            "users",
            "add",
            "wang.fang",
            "--department",
            "urban",
            "--role",
            "analyst",
        ],
    );
    let outsider = xl_ok(&store, &["tokens", "create", "--user", "wang.fang"]);

    assert!(
        wait_for_violation(&store, Duration::from_secs(240)),
        "the demo stored no violation in 4 minutes:\n{}",
        demo.log_text()
    );

    let artifacts = repo_root().join("test-artifacts/command-view");
    let _ = std::fs::remove_dir_all(&artifacts);
    let browser = Command::new("node")
        .arg(repo_root().join("tests/browser/command_view.mjs"))
        .current_dir(repo_root().join("tests/browser"))
        .env("XL_URL", format!("http://127.0.0.1:{api}"))
        .env("XL_TOKEN", &token)
        .env("XL_OUTSIDER_TOKEN", &outsider)
        .env("XL_ARTIFACTS", &artifacts)
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    let status = demo.interrupt(Duration::from_secs(60));
    assert!(
        browser.status.success(),
        "browser test failed ({}):\n--- stdout\n{}\n--- stderr\n{}\n--- demo log (tail)\n{}",
        browser.status,
        String::from_utf8_lossy(&browser.stdout),
        String::from_utf8_lossy(&browser.stderr),
        tail(&demo.log_text(), 60)
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "the demo did not stop cleanly: {status:?}\n{}",
        tail(&demo.log_text(), 60)
    );
    let shots = std::fs::read_dir(&artifacts)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert!(
        shots >= 7,
        "a screenshot per step in {}",
        artifacts.display()
    );
}

/// `xl serve`: the API and the page over a config's store, with no pipelines running.
#[test]
fn serve_runs_the_api_and_page_without_pipelines() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), free_port(), 2);
    let api = free_port();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[api]\nlisten = \"127.0.0.1:{api}\"\n"));
    std::fs::write(&config, text).unwrap();
    let mut cmd = xl();
    cmd.args(["serve", "--duration", "60", "--config"])
        .arg(&config);
    let mut serve = Background::spawn(cmd, dir.path().join("serve.log"));
    assert!(
        wait_for_port(api, Duration::from_secs(60)),
        "xl serve did not listen:\n{}",
        serve.log_text()
    );
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", api)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let page = get("/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("content-security-policy"), "{page}");
    assert!(get("/api/v1/cameras").starts_with("HTTP/1.1 401"));
    let status = serve.interrupt(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "xl serve stops cleanly: {status:?}\n{}",
        serve.log_text()
    );
}

/// The page's pure modules (SSE parsing, clustering, projection, formatting in Asia/Shanghai...)
/// under Node, without a browser.
#[test]
fn page_modules_unit_tests() {
    let out = Command::new("node")
        .arg("unit.mjs")
        .current_dir(repo_root().join("tests/browser"))
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "unit.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
