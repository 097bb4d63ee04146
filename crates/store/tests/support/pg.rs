//! A fresh PostgreSQL database per test on the machine's server (127.0.0.1:5432, trust auth),
//! dropped when the guard goes out of scope (even when the test panics).
#![allow(dead_code)]

pub const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

pub struct FreshDb {
    pub name: String,
}

impl FreshDb {
    /// A unique, not yet existing database; `Store::open` creates it.
    pub fn new(tag: &str) -> Self {
        let name = format!("xl_test_{tag}_{}", uuid::Uuid::now_v7().simple());
        Self { name }
    }

    pub fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = std::process::Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                &sql,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
