//! The live pipeline with the enforcement world: the simulator feeds its WIM records into a
//! followed JSONL file, an integrator posts records to `POST /api/v1/wim`, and overload events
//! (fused with plate reads, or with no plate) land in the store next to the other rule events.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use common::{
    free_port, query_events, repo_root, run, start_sim_with, stderr, stdout, wait_for_port, xl,
    Background,
};
use xl_schema::{china_offset, EventDetails, EventKind};

/// A minimal HTTP/1.1 POST; returns the status code and body.
fn post(port: u16, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn write_pipeline(dir: &Path, rules: &Path) -> std::path::PathBuf {
    let base = std::fs::read_to_string(repo_root().join("pipelines/checkpoint.toml")).unwrap();
    let models = repo_root().join("models");
    let text = base
        .replace("../models", &models.display().to_string())
        .replacen(
            "name = \"checkpoint\"",
            &format!(
                "name = \"checkpoint\"\nrules_file = \"{}\"",
                rules.display()
            ),
            1,
        );
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn wim_records_from_file_and_http_become_overload_events() {
    let dir = tempfile::tempdir().unwrap();
    let (rtsp, api) = (free_port(), free_port());
    let world = dir.path().join("world");
    let mut sim = start_sim_with(
        2,
        rtsp,
        7,
        60,
        &dir.path().join("truth.jsonl"),
        dir.path().join("sim.log"),
        Some(&world),
    );
    let pipeline = write_pipeline(dir.path(), &world.join("rules.toml"));
    let mut config = format!(
        "[store]\nurl = \"sqlite://{d}/xl.db\"\n\n[evidence]\nroot = \"{d}/evidence\"\n\n[api]\nlisten = \"127.0.0.1:{api}\"\n\n[wim]\njsonl = [\"{w}\"]\n",
        d = dir.path().display(),
        w = world.join("wim.jsonl").display()
    );
    for i in 1..=2u32 {
        let (lat, lon) = xl_sim::camera_position(i);
        config.push_str(&format!(
            "\n[[cameras]]\nid = \"cam-{i}\"\nurl = \"rtsp://127.0.0.1:{rtsp}/cam/{i}\"\npipeline = \"{}\"\nlat = {lat}\nlon = {lon}\n",
            pipeline.display()
        ));
    }
    let config_path = dir.path().join("xl.toml");
    std::fs::write(&config_path, config).unwrap();
    // The station posts as an analyst of the traffic department.
    let store = format!("sqlite://{}/xl.db", dir.path().display());
    for args in [
        vec!["departments", "add", "traffic"],
        vec![
            "users",
            "add",
            "wim-station",
            "--department",
            "traffic",
            "--role",
            "analyst",
        ],
    ] {
        let out = run(xl().args(&args).args(["--store", &store]));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let out = run(xl().args([
        "tokens",
        "create",
        "--user",
        "wim-station",
        "--store",
        &store,
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out);
    let token = token.trim();
    let mut pipeline_run = Background::spawn(
        {
            let mut c = xl();
            c.args(["run", "--duration", "40", "--config"])
                .arg(&config_path);
            c
        },
        dir.path().join("run.log"),
    );
    assert!(
        wait_for_port(api, Duration::from_secs(60)),
        "API did not come up:\n{}",
        pipeline_run.log_text()
    );
    // Pipelines attach a moment after the API binds.
    std::thread::sleep(Duration::from_secs(3));
    let now = chrono::Utc::now().with_timezone(&china_offset());
    let record = format!(
        r#"{{"record_id":"test-1","station_id":"WIM-01","lane":1,"ts":"{}","axles":3,"gross_kg":41000}}"#,
        now.to_rfc3339()
    );
    let (status, body) = post(api, "/api/v1/wim", "xl_forged", &record);
    assert_eq!(status, 401, "records need a token: {body}");
    let (status, body) = post(api, "/api/v1/wim", token, &record);
    assert_eq!(status, 202, "{body}");
    let (status, body) = post(api, "/api/v1/wim", token, &record);
    assert_eq!(status, 202);
    assert!(body.contains("duplicate"), "{body}");
    let (status, body) = post(
        api,
        "/api/v1/wim",
        token,
        &record.replace("41000", "\"heavy\""),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"gross_kg\""), "{body}");
    let (status, body) = post(
        api,
        "/api/v1/wim",
        token,
        &record.replace("WIM-01", "WIM-77"),
    );
    assert_eq!(status, 422, "{body}");

    let exit = pipeline_run.child.wait().unwrap();
    assert!(
        exit.success(),
        "xl run failed:\n{}",
        pipeline_run.log_text()
    );
    let _ = sim.interrupt(Duration::from_secs(10));

    let events = query_events(&store);
    let overloads: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Overload)
        .collect();
    let ours = overloads
        .iter()
        .find(|e| {
            matches!(&e.details, Some(EventDetails::Overload { wim, .. }) if wim.record_id.as_deref() == Some("test-1"))
        })
        .unwrap_or_else(|| panic!("no overload event for the posted record:\n{}", pipeline_run.log_text()));
    let Some(EventDetails::Overload {
        limit_kg,
        excess_pct,
        ..
    }) = &ours.details
    else {
        unreachable!()
    };
    assert_eq!(*limit_kg, 25_000);
    assert!((excess_pct - 64.0).abs() < 0.1, "{excess_pct}");
    assert_eq!(
        overloads
            .iter()
            .filter(|e| matches!(&e.details, Some(EventDetails::Overload { wim, .. }) if wim.record_id.as_deref() == Some("test-1")))
            .count(),
        1,
        "a repeated record is judged once"
    );
    assert!(
        events.iter().any(|e| e.kind == EventKind::PlateRead),
        "the pipeline read plates meanwhile"
    );
    let flow = run(xl().args(["flow", "query", "--store", &store, "--format", "jsonl"]));
    assert!(flow.status.success(), "{}", stderr(&flow));
}
