//! SQLite and the real PostgreSQL server behind one switch, and `contract!`, which runs a test
//! function once per backend.
#![allow(dead_code)]

use xl_store::Store;

#[path = "pg.rs"]
pub mod pg;

/// Keeps the backend's database alive for the test.
pub enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] pg::FreshDb),
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn url(self) -> (Guard, String) {
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/db/xl.db", dir.path().display());
                (Guard::Sqlite(dir), url)
            }
            Backend::Postgres => {
                let db = pg::FreshDb::new("store");
                let url = db.url();
                (Guard::Postgres(db), url)
            }
        }
    }

    pub async fn open(self) -> (Guard, Store) {
        let (guard, url) = self.url();
        let store = Store::open(&url).await.unwrap();
        (guard, store)
    }
}

/// One `#[tokio::test]` per backend for each contract function.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Backend::Postgres).await
            })*
        }
    };
}
