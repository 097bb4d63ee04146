//! Helpers for tests that drive the `xl` binary as a user would.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

pub fn shared_data() -> PathBuf {
    repo_root().join("../shared/data/plates-dev")
}

pub fn ort_library() -> PathBuf {
    std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/lib/libonnxruntime.so.1.22.1"))
}

/// `xl` with the ORT library configured and logs quiet enough to read on failure.
pub fn xl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xl"));
    c.current_dir(repo_root())
        .env("ORT_DYLIB_PATH", ort_library())
        .env("RUST_LOG", "info,retina=warn")
        .stdin(Stdio::null());
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("xl runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (SIGINT, then SIGKILL) when dropped.
pub struct Background {
    pub child: Child,
    pub log: PathBuf,
}

impl Background {
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("spawn");
        Self { child, log }
    }

    /// Sends SIGINT and waits up to `timeout` for a clean exit; returns the exit status.
    pub fn interrupt(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Starts `xl sim` and waits until it accepts connections (clip preparation included).
pub fn start_sim(
    cameras: usize,
    port: u16,
    seed: u64,
    clip_secs: u32,
    truth: &Path,
    log: PathBuf,
) -> Background {
    start_sim_with(cameras, port, seed, clip_secs, truth, log, None)
}

/// `start_sim`, also writing the enforcement world (rules, watch list, WIM feed) to `world`.
pub fn start_sim_with(
    cameras: usize,
    port: u16,
    seed: u64,
    clip_secs: u32,
    truth: &Path,
    log: PathBuf,
    world: Option<&Path>,
) -> Background {
    let mut cmd = xl();
    cmd.args([
        "sim",
        "--cameras",
        &cameras.to_string(),
        "--port",
        &port.to_string(),
        "--seed",
        &seed.to_string(),
    ])
    .args(["--clip-secs", &clip_secs.to_string(), "--truth"])
    .arg(truth)
    .arg("--cache-dir")
    .arg(repo_root().join("var/sim-cache"));
    if let Some(w) = world {
        cmd.args(["--world-horizon", "600"]).arg("--world").arg(w);
    }
    let mut sim = Background::spawn(cmd, log);
    if !wait_for_port(port, Duration::from_secs(240)) {
        let _ = sim.child.kill();
        panic!("simulator did not start:\n{}", sim.log_text());
    }
    // The world files are written right after the server binds.
    if let Some(w) = world {
        for _ in 0..600 {
            if w.join("rules.toml").is_file() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    sim
}

/// An xl.toml for `cameras` simulated cameras on `port`.
pub fn write_config(dir: &Path, port: u16, cameras: usize) -> PathBuf {
    let mut text = format!(
        "[store]\nurl = \"sqlite://{}/xl.db\"\n\n[evidence]\nroot = \"{}/evidence\"\n",
        dir.display(),
        dir.display()
    );
    for i in 1..=cameras {
        text.push_str(&format!(
            "\n[[cameras]]\nid = \"cam-{i}\"\nurl = \"rtsp://127.0.0.1:{port}/cam/{i}\"\npipeline = \"{}\"\nlat = 30.9{i}\nlon = 117.8{i}\n",
            repo_root().join("pipelines/plates.toml").display()
        ));
    }
    let path = dir.join("xl.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn query_events(store: &str) -> Vec<xl_schema::Event> {
    let out = run(xl().args([
        "events", "query", "--store", store, "--format", "jsonl", "--limit", "100000",
    ]));
    assert!(
        out.status.success(),
        "events query failed: {}",
        stderr(&out)
    );
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("event JSON"))
        .collect()
}
