//! A real S3-compatible server for tests: moto's `moto_server`, installed by `scripts/setup.sh`
//! (run by `make test`) into `<workspace>/.cache/venv-s3` from the hash-pinned
//! `scripts/s3-test-requirements.txt`.
//!
//! Each [`S3Server`] is its own `moto_server` process on its own free loopback port, so tests
//! (and test binaries) running in parallel never share state. Include it from a test file with
//! `#[path = "support/s3.rs"] mod s3;`.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{BackoffConfig, RetryConfig};

/// How long a fresh `moto_server` may take to answer HTTP (its imports are slow on a busy
/// 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a server is started anew on another port when it exits before answering (e.g.
/// because another process took the port between choosing it and moto binding it).
const START_ATTEMPTS: usize = 3;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A `moto_server` child process listening on `127.0.0.1:port`; killed on drop.
pub struct S3Server {
    child: Child,
    /// Kills `child` if this test process dies without running `Drop` (SIGKILL, abort).
    watchdog: Option<Child>,
    port: u16,
    log: PathBuf,
}

impl S3Server {
    /// Path of the `moto_server` executable that `scripts/setup.sh` installs.
    pub fn executable() -> PathBuf {
        let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = manifest_dir.ancestors().nth(2).unwrap_or(manifest_dir);
        workspace.join(".cache/venv-s3/bin/moto_server")
    }

    /// Starts `moto_server` on a free loopback port and waits until it answers HTTP.
    ///
    /// Panics, naming `make test` and `scripts/setup.sh`, when the venv is missing.
    pub fn start() -> S3Server {
        let exe = Self::executable();
        assert!(
            exe.is_file(),
            "moto_server (the S3-compatible test server) is not installed at {}: run `make test`, \
             or `bash scripts/setup.sh` once, which installs it into .cache/venv-s3 from \
             scripts/s3-test-requirements.txt",
            exe.display()
        );
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&exe) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("moto_server did not start after {START_ATTEMPTS} attempts: {last_error}");
    }

    fn try_start(exe: &PathBuf) -> Result<S3Server, String> {
        let port = free_port();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let log =
            std::env::temp_dir().join(format!("xl-moto-{}-{n}-{port}.log", std::process::id()));
        let out = File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cloning {}: {e}", log.display()))?;
        let child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", exe.display()))?;
        let watchdog = spawn_watchdog(child.id());
        let mut server = S3Server {
            child,
            watchdog,
            port,
            log,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "moto_server on port {port} exited with {status} before answering; its log \
                     ({}):\n{}",
                    server.log.display(),
                    server.log_tail()
                ));
            }
            if let Ok((status, _)) = server.request("GET", "/") {
                if status == 200 {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto_server on port {port} did not answer HTTP within {START_TIMEOUT:?}; \
                     its log ({}):\n{}",
                    server.log.display(),
                    server.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the server's stdout and stderr go (removed on drop unless the thread is panicking).
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// Creates a bucket named `<prefix>-<unique suffix>` (lowercased, characters that S3 bucket
    /// names forbid replaced by `-`) and returns its name.
    pub fn create_bucket(&self, prefix: &str) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let suffix = format!(
            "{}-{}-{nanos:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut prefix: String = prefix
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        prefix.truncate(62 - suffix.len());
        let prefix = prefix.trim_matches('-');
        let name = if prefix.is_empty() {
            format!("b-{suffix}")
        } else {
            format!("{prefix}-{suffix}")
        };
        let (status, body) = self
            .request("PUT", &format!("/{name}"))
            .unwrap_or_else(|e| panic!("creating bucket {name} on {}: {e}", self.endpoint()));
        assert_eq!(
            status,
            200,
            "creating bucket {name} on {}: {body}",
            self.endpoint()
        );
        name
    }

    /// An S3 store for `bucket` on this server (path-style requests over plain HTTP, region
    /// us-east-1, static credentials `test`/`test`, few retries so failures surface quickly).
    pub fn store(&self, bucket: &str) -> AmazonS3 {
        AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_region("us-east-1")
            .with_bucket_name(bucket)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(20),
            })
            .build()
            .unwrap_or_else(|e| panic!("building the S3 store for {bucket}: {e}"))
    }

    /// One unsigned HTTP/1.1 request with an empty body; returns the status and the body.
    fn request(&self, method: &str, path: &str) -> std::io::Result<(u16, String)> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let response = String::from_utf8_lossy(&response);
        let status = response
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.get(2..5))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not an HTTP response: {response:?}"),
                )
            })?;
        let body = response
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
            .to_owned();
        Ok((status, body))
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        // Keep the log of a failing test for a look; drop the others.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral loopback port")
}

/// A `sh` loop that kills `pid` once this test process is gone, so a test binary killed
/// without unwinding leaves no `moto_server` behind. `None` where `sh` cannot be started.
fn spawn_watchdog(pid: u32) -> Option<Child> {
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; kill {pid} 2>/dev/null",
        std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}
