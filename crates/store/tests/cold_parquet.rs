//! The cold tier's Parquet files: round trip, verification, pruned queries and pagination.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone};
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use xl_schema::EventKind;
use xl_store::cold::{ColdEvents, ColdFile, ColdRow};
use xl_store::{EventQuery, RowKey, StoreError};

/// 2026-11-29T00:00:00+08:00.
const T0: i64 = 1_795_881_600_000;
const HOUR: i64 = 3_600_000;

/// Deterministic pseudo-random numbers (splitmix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uuid(&mut self) -> Uuid {
        Uuid::from_u128(((self.next() as u128) << 64) | self.next() as u128)
    }
}

const PROVINCES: [&str; 6] = ["皖", "苏", "浙", "沪", "鲁", "豫"];
const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

fn plate(n: u64) -> String {
    let province = PROVINCES[(n % PROVINCES.len() as u64) as usize];
    let city = LETTERS[((n / 7) % 6) as usize] as char;
    format!("{province}{city}{:05}", n % 100_000)
}

fn camera(n: u64) -> String {
    format!("cam-{n:03}")
}

const KINDS: [EventKind; 4] = [
    EventKind::PlateRead,
    EventKind::WatchlistHit,
    EventKind::ObscuredPlate,
    EventKind::Overload,
];

const PLATE_COLORS: [&str; 3] = ["blue", "yellow", "green"];
const CLASSES: [&str; 4] = ["car", "bus", "truck", "van"];
const COLORS: [&str; 5] = ["white", "black", "silver", "red", "blue"];

/// An event body shaped like the hot store's JSON (~800 bytes).
fn body(
    id: Uuid,
    kind: &str,
    camera: &str,
    ts_ms: i64,
    plate: Option<&str>,
    rng: &mut Rng,
) -> String {
    let x = rng.below(1800) as f64 + 0.5;
    let y = rng.below(900) as f64 + 0.25;
    let evidence = ["scene", "plate"].map(|role| {
        serde_json::json!({
            "role": role,
            "path": format!("evidence/{camera}/{ts_ms}/{id}-{role}.jpg"),
            "sha256": format!("{:016x}{:016x}", rng.next(), rng.next()),
        })
    });
    serde_json::json!({
        "id": id,
        "kind": kind,
        "camera_id": camera,
        "ts": ts_ms,
        "plate": plate.map(|p| serde_json::json!({
            "text": p,
            "color": PLATE_COLORS[rng.below(3) as usize],
            "confidence": rng.below(1000) as f64 / 1000.0,
            "corners": [[x, y], [x + 141.5, y + 2.0], [x + 140.0, y + 46.5], [x - 1.5, y + 44.0]],
        })),
        "vehicle": {
            "class": CLASSES[rng.below(4) as usize],
            "color": COLORS[rng.below(5) as usize],
            "bbox": [x - 300.0, y - 420.0, x + 420.0, y + 180.0],
            "track_id": rng.below(1_000_000),
            "speed_kmh": rng.below(1200) as f64 / 10.0,
        },
        "evidence": evidence,
        "provenance": {
            "pipeline": "plates",
            "pipeline_sha256": format!("{:016x}", rng.next()),
            "models": {"detector": "yolo-vehicle-v8s@3f2a", "plate": "lprnet-cn@9c1e"},
            "source": {
                "kind": "rtsp",
                "frame": rng.below(10_000_000),
                "pts_90k": rng.below(1 << 40),
            },
        },
    })
    .to_string()
}

/// `n` rows over `cameras` cameras from `start_ms`, spaced ~`step_ms` apart per camera.
fn rows(
    rng: &mut Rng,
    n: usize,
    cameras: u64,
    plates: u64,
    start_ms: i64,
    step_ms: i64,
) -> Vec<ColdRow> {
    (0..n)
        .map(|i| {
            let id = rng.uuid();
            let kind = KINDS[rng.below(KINDS.len() as u64) as usize]
                .as_str()
                .to_string();
            let camera_id = camera(rng.below(cameras));
            // Some rows share a timestamp so the keyset cursor's id tie-break matters.
            let ts_ms = start_ms + (i as i64 / 2) * step_ms / cameras as i64;
            let plate_text = (kind != "obscured_plate").then(|| plate(rng.below(plates)));
            let body = body(id, &kind, &camera_id, ts_ms, plate_text.as_deref(), rng);
            ColdRow {
                id,
                kind,
                camera_id,
                ts_ms,
                plate_text,
                body,
            }
        })
        .collect()
}

fn key(row: &ColdRow) -> RowKey<'_> {
    RowKey {
        id: row.id,
        kind: &row.kind,
        camera_id: &row.camera_id,
        ts_ms: row.ts_ms,
        plate_text: row.plate_text.as_deref(),
    }
}

/// What a query must return, computed without Parquet.
fn expected(all: &[ColdRow], q: &EventQuery) -> Vec<ColdRow> {
    let mut hits: Vec<ColdRow> = all.iter().filter(|r| q.matches(&key(r))).cloned().collect();
    hits.sort_by_key(|r| (r.ts_ms, r.id));
    hits.truncate(q.page_size() as usize);
    hits
}

fn at(ms: i64) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .timestamp_millis_opt(ms)
        .unwrap()
}

fn local() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    (dir, store)
}

fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

fn sorted_for_file(rows: &[ColdRow]) -> Vec<ColdRow> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| (&a.camera_id, a.ts_ms, a.id).cmp(&(&b.camera_id, b.ts_ms, b.id)));
    rows
}

async fn round_trip(store: Arc<dyn ObjectStore>) {
    let cold = ColdEvents::new(Arc::clone(&store));
    let mut rng = Rng(1);
    let input = rows(&mut rng, 500, 7, 50, T0, 1000);
    let file = cold
        .write("cold/2026/11/29/a.parquet", input.clone())
        .await
        .unwrap();

    assert_eq!(file.path, "cold/2026/11/29/a.parquet");
    assert_eq!(file.rows, 500);
    assert_eq!(file.min_ts_ms, input.iter().map(|r| r.ts_ms).min().unwrap());
    assert_eq!(file.max_ts_ms, input.iter().map(|r| r.ts_ms).max().unwrap());
    let head = store.head(&Path::from(file.path.as_str())).await.unwrap();
    assert_eq!(file.bytes, head.size);
    let mut ids: Vec<[u8; 16]> = input.iter().map(|r| r.id.into_bytes()).collect();
    ids.sort();
    assert_eq!(file.checksum, hex::encode(Sha256::digest(ids.concat())));

    assert_eq!(
        cold.rows(&file.path).await.unwrap(),
        sorted_for_file(&input)
    );
    cold.verify(&file).await.unwrap();

    // A move resumed after a crash describes the file from its rows, size unknown (0).
    let described = ColdFile::describe(&file.path, &input, 0);
    assert_eq!(
        ColdFile {
            bytes: file.bytes,
            ..described.clone()
        },
        file
    );
    cold.verify(&described).await.unwrap();
    let q = EventQuery {
        camera_id: Some(input[0].camera_id.clone()),
        limit: 1000,
        ..Default::default()
    };
    let want = expected(&input, &q);
    assert!(!want.is_empty());
    assert_eq!(cold.query(&[file], &q).await.unwrap(), want);
    assert_eq!(cold.query(&[described], &q).await.unwrap(), want);
}

#[tokio::test]
async fn round_trip_on_local_files() {
    let (_dir, store) = local();
    round_trip(store).await;
}

#[tokio::test]
async fn round_trip_in_memory() {
    round_trip(memory()).await;
}

#[tokio::test]
async fn write_rejects_no_rows_and_bad_paths() {
    let cold = ColdEvents::new(memory());
    assert!(matches!(
        cold.write("cold/empty.parquet", vec![]).await,
        Err(StoreError::Parquet { path, .. }) if path == "cold/empty.parquet"
    ));
    let mut rng = Rng(2);
    assert!(matches!(
        cold.write("cold/../x.parquet", rows(&mut rng, 3, 1, 3, T0, 1000))
            .await,
        Err(StoreError::ObjectStore { .. })
    ));
}

#[tokio::test]
async fn files_have_the_layout_queries_rely_on() {
    let (_dir, store) = local();
    let cold = ColdEvents::new(Arc::clone(&store));
    let mut rng = Rng(3);
    let file = cold
        .write(
            "cold/layout.parquet",
            rows(&mut rng, 140_000, 3, 5000, T0, 500),
        )
        .await
        .unwrap();
    let data = store
        .get(&Path::from(file.path.as_str()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(data).unwrap();
    let meta = reader.metadata();
    assert_eq!(meta.num_row_groups(), 3);
    let names: Vec<&str> = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(
        names,
        ["id", "kind", "camera_id", "ts_ms", "plate_text", "body"]
    );
    for rg in meta.row_groups() {
        assert!(rg.num_rows() <= 64 * 1024);
        for (i, column) in rg.columns().iter().enumerate() {
            assert!(
                matches!(column.compression(), Compression::ZSTD(_)),
                "column {i}"
            );
            let bloom = column.bloom_filter_offset().is_some();
            assert_eq!(
                bloom,
                names[i] == "plate_text" || names[i] == "camera_id",
                "bloom on {}",
                names[i]
            );
        }
        assert!(rg.column(3).statistics().is_some(), "ts_ms statistics");
        assert!(rg.column(2).statistics().is_some(), "camera_id statistics");
    }
    // The reader only fetches the body pages of matching rows if there is an offset index.
    assert!(meta.file_metadata().num_rows() == 140_000);
    let offsets = meta.row_group(0).column(5).offset_index_offset();
    assert!(offsets.is_some(), "offset index on body");
}

#[tokio::test]
async fn verify_catches_every_kind_of_mismatch() {
    let (_dir, store) = local();
    let cold = ColdEvents::new(Arc::clone(&store));
    let mut rng = Rng(4);
    let file = cold
        .write("cold/v.parquet", rows(&mut rng, 300, 4, 40, T0, 1000))
        .await
        .unwrap();
    cold.verify(&file).await.unwrap();

    let reason = |result: Result<(), StoreError>| match result {
        Err(StoreError::ColdVerify { path, reason }) => {
            assert_eq!(path, "cold/v.parquet");
            reason
        }
        other => panic!("expected ColdVerify, got {other:?}"),
    };
    let wrong_rows = ColdFile {
        rows: 299,
        ..file.clone()
    };
    assert!(reason(cold.verify(&wrong_rows).await).contains("rows"));
    let wrong_sum = ColdFile {
        checksum: "00".repeat(32),
        ..file.clone()
    };
    assert!(reason(cold.verify(&wrong_sum).await).contains("checksum"));
    let wrong_range = ColdFile {
        max_ts_ms: file.max_ts_ms + 1,
        ..file.clone()
    };
    assert!(reason(cold.verify(&wrong_range).await).contains("time range"));

    // Another move's rows at the same path (same count, different ids).
    cold.write("cold/v.parquet", rows(&mut rng, 300, 4, 40, T0, 1000))
        .await
        .unwrap();
    assert!(reason(cold.verify(&file).await).contains("checksum"));

    // A truncated upload.
    let location = Path::from("cold/v.parquet");
    let good = cold
        .write("cold/v.parquet", rows(&mut Rng(4), 300, 4, 40, T0, 1000))
        .await
        .unwrap();
    assert_eq!(good, file);
    cold.verify(&file).await.unwrap();
    let data = store.get(&location).await.unwrap().bytes().await.unwrap();
    store
        .put(&location, PutPayload::from(data.slice(..data.len() / 2)))
        .await
        .unwrap();
    assert!(reason(cold.verify(&file).await).contains("readable"));

    store
        .put(
            &location,
            PutPayload::from_static(b"PAR1 this is not parquet at all PAR1"),
        )
        .await
        .unwrap();
    assert!(reason(cold.verify(&file).await).contains("readable"));

    cold.delete("cold/v.parquet").await.unwrap();
    assert!(reason(cold.verify(&file).await).contains("does not exist"));
}

/// Three files: two small ones on either side of a large one with several row groups.
async fn three_files(store: Arc<dyn ObjectStore>) -> (ColdEvents, Vec<ColdFile>, Vec<ColdRow>) {
    let cold = ColdEvents::new(store);
    let mut rng = Rng(5);
    let parts = [
        rows(&mut rng, 2_000, 5, 300, T0, 2_000),
        rows(&mut rng, 150_000, 12, 3_000, T0 + 2 * HOUR, 1_000),
        rows(&mut rng, 3_000, 5, 300, T0 + 2 * HOUR + 30 * 60_000, 2_000),
    ];
    let mut files = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        files.push(
            cold.write(&format!("cold/part-{i}.parquet"), part.clone())
                .await
                .unwrap(),
        );
    }
    (cold, files, parts.concat())
}

#[tokio::test]
async fn queries_match_the_reference_predicate() {
    let (_dir, store) = local();
    let (cold, files, all) = three_files(store).await;
    let some_plate = all[77_000].plate_text.clone().unwrap();
    let some_camera = all[1_234].camera_id.clone();
    let queries = [
        EventQuery {
            plate: Some(some_plate.clone()),
            limit: 1000,
            ..Default::default()
        },
        EventQuery {
            plate: Some("京A00000".into()),
            ..Default::default()
        },
        EventQuery {
            plate_prefix: Some(some_plate[..some_plate.len() - 2].to_string()),
            limit: 1000,
            ..Default::default()
        },
        EventQuery {
            plate_prefix: Some("皖".into()),
            camera_id: Some(some_camera.clone()),
            ..Default::default()
        },
        EventQuery {
            camera_id: Some(some_camera.clone()),
            from: Some(at(T0 + 2 * HOUR + 10 * 60_000)),
            to: Some(at(T0 + 2 * HOUR + 25 * 60_000)),
            limit: 5000,
            ..Default::default()
        },
        EventQuery {
            kind: Some(EventKind::Overload),
            from: Some(at(T0 + HOUR)),
            limit: 300,
            ..Default::default()
        },
        EventQuery {
            kind: Some(EventKind::WatchlistHit),
            camera_id: Some("cam-003".into()),
            to: Some(at(T0 + 3 * HOUR)),
            limit: 100_000,
            ..Default::default()
        },
        EventQuery {
            camera_id: Some("cam-011".into()),
            ..Default::default()
        },
        EventQuery {
            from: Some(at(T0 + 2 * HOUR + 29 * 60_000)),
            to: Some(at(T0 + 2 * HOUR + 31 * 60_000)),
            limit: 100_000,
            ..Default::default()
        },
        EventQuery::default(),
        EventQuery {
            camera_id: Some("cam-999".into()),
            ..Default::default()
        },
        EventQuery {
            from: Some(at(T0 + 3 * HOUR)),
            to: Some(at(T0 + 3 * HOUR)),
            ..Default::default()
        },
    ];
    for q in &queries {
        let got = cold.query(&files, q).await.unwrap();
        let want = expected(&all, q);
        assert_eq!(got.len(), want.len(), "{q:?}");
        assert!(got == want, "{q:?}");
    }
    // The non-trivial queries do find something.
    assert!(!expected(&all, &queries[0]).is_empty());
    assert!(!expected(&all, &queries[4]).is_empty());
}

#[tokio::test]
async fn keyset_pages_cover_every_match_once_in_order() {
    let store = memory();
    let (cold, files, all) = three_files(store).await;
    for base in [
        EventQuery {
            kind: Some(EventKind::WatchlistHit),
            camera_id: Some("cam-002".into()),
            limit: 97,
            ..Default::default()
        },
        EventQuery {
            plate_prefix: Some("苏B".into()),
            from: Some(at(T0 + 300_000)),
            limit: 250,
            ..Default::default()
        },
    ] {
        let mut want: Vec<ColdRow> = all
            .iter()
            .filter(|r| base.matches(&key(r)))
            .cloned()
            .collect();
        want.sort_by_key(|r| (r.ts_ms, r.id));
        // Every file contributes, so pages cross file boundaries.
        for file in &files {
            assert!(want
                .iter()
                .any(|r| (file.min_ts_ms..=file.max_ts_ms).contains(&r.ts_ms)));
        }
        let mut got = Vec::new();
        let mut q = base.clone();
        loop {
            let page = cold.query(&files, &q).await.unwrap();
            assert!(page.len() <= base.limit as usize);
            let Some(last) = page.last() else { break };
            q.after = Some((last.ts_ms, last.id));
            got.extend(page);
        }
        assert_eq!(got.len(), want.len());
        assert!(got == want);
    }
}

#[tokio::test]
async fn files_outside_the_time_range_are_not_read() {
    let (_dir, store) = local();
    let (cold, files, all) = three_files(Arc::clone(&store)).await;
    // Remove the early file's object; the manifest entry stays.
    cold.delete(&files[0].path).await.unwrap();

    let q = EventQuery {
        from: Some(at(files[0].max_ts_ms + 1)),
        limit: 500,
        ..Default::default()
    };
    assert_eq!(cold.query(&files, &q).await.unwrap(), expected(&all, &q));

    // A cursor past the file skips it too.
    let last = &all[1_999];
    let q = EventQuery {
        after: Some((files[0].max_ts_ms + 1, last.id)),
        limit: 500,
        ..Default::default()
    };
    assert_eq!(cold.query(&files, &q).await.unwrap(), expected(&all, &q));

    // Once a full page ends before the file starts, later files are not opened either.
    cold.delete(&files[2].path).await.unwrap();
    let q = EventQuery {
        from: Some(at(files[1].min_ts_ms)),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(cold.query(&files, &q).await.unwrap(), expected(&all, &q));

    // A query that does need the missing object fails, naming it.
    let q = EventQuery {
        to: Some(at(files[0].max_ts_ms)),
        ..Default::default()
    };
    match cold.query(&files, &q).await {
        Err(StoreError::Parquet { path, .. }) => assert_eq!(path, files[0].path),
        other => panic!("expected a read error, got {other:?}"),
    }
}

/// Counts the bytes each object is read for, to show what a query touches.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn ObjectStore>,
    read: Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
}

impl Counting {
    fn add(&self, location: &Path, bytes: u64) {
        *self
            .read
            .lock()
            .unwrap()
            .entry(location.to_string())
            .or_default() += bytes;
    }

    fn take(&self) -> std::collections::HashMap<String, u64> {
        std::mem::take(&mut *self.read.lock().unwrap())
    }
}

impl std::fmt::Display for Counting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = object_store::Result<T>> + Send + 'a>>;

// `ObjectStore` is an `async_trait`; these are its methods written out by hand.
impl ObjectStore for Counting {
    fn put_opts<'a, 'b, 'c>(
        &'a self,
        location: &'b Path,
        payload: PutPayload,
        opts: object_store::PutOptions,
    ) -> BoxFut<'c, object_store::PutResult>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.inner.put_opts(location, payload, opts)
    }

    fn put_multipart_opts<'a, 'b, 'c>(
        &'a self,
        location: &'b Path,
        opts: object_store::PutMultipartOptions,
    ) -> BoxFut<'c, Box<dyn object_store::MultipartUpload>>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.inner.put_multipart_opts(location, opts)
    }

    fn get_opts<'a, 'b, 'c>(
        &'a self,
        location: &'b Path,
        options: object_store::GetOptions,
    ) -> BoxFut<'c, object_store::GetResult>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        Box::pin(async move {
            let got = self.inner.get_opts(location, options).await?;
            self.add(location, got.range.end - got.range.start);
            Ok(got)
        })
    }

    fn get_ranges<'a, 'b, 'c, 'd>(
        &'a self,
        location: &'b Path,
        ranges: &'c [std::ops::Range<u64>],
    ) -> BoxFut<'d, Vec<bytes::Bytes>>
    where
        'a: 'd,
        'b: 'd,
        'c: 'd,
        Self: 'd,
    {
        Box::pin(async move {
            let got = self.inner.get_ranges(location, ranges).await?;
            self.add(location, got.iter().map(|b| b.len() as u64).sum());
            Ok(got)
        })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_delimiter<'a, 'b, 'c>(
        &'a self,
        prefix: Option<&'b Path>,
    ) -> BoxFut<'c, object_store::ListResult>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        self.inner.list_with_delimiter(prefix)
    }

    fn copy_opts<'a, 'b, 'c, 'd>(
        &'a self,
        from: &'b Path,
        to: &'c Path,
        options: object_store::CopyOptions,
    ) -> BoxFut<'d, ()>
    where
        'a: 'd,
        'b: 'd,
        'c: 'd,
        Self: 'd,
    {
        self.inner.copy_opts(from, to, options)
    }
}

#[tokio::test]
async fn queries_read_a_small_part_of_each_file() {
    let (_dir, disk) = local();
    let counting = Arc::new(Counting {
        inner: disk,
        read: Default::default(),
    });
    let cold = ColdEvents::new(Arc::clone(&counting) as Arc<dyn ObjectStore>);
    let mut rng = Rng(8);
    // A day-like file: most plates are seen once or twice.
    let early = rows(&mut rng, 1_000, 5, 1_000, T0, 2_000);
    let big_rows = rows(&mut rng, 150_000, 12, 100_000, T0 + HOUR, 2_000);
    let files = [
        cold.write("cold/early.parquet", early.clone())
            .await
            .unwrap(),
        cold.write("cold/big.parquet", big_rows.clone())
            .await
            .unwrap(),
    ];
    let all = [early, big_rows].concat();
    let big = &files[1];
    let some = all[100_000..]
        .iter()
        .find(|r| r.plate_text.is_some())
        .unwrap();
    let cases = [
        EventQuery {
            plate: some.plate_text.clone(),
            from: Some(at(T0 + HOUR)),
            ..Default::default()
        },
        EventQuery {
            camera_id: Some(some.camera_id.clone()),
            from: Some(at(some.ts_ms - 60_000)),
            to: Some(at(some.ts_ms + 60_000)),
            ..Default::default()
        },
        EventQuery {
            kind: Some(EventKind::Overload),
            from: Some(at(some.ts_ms)),
            limit: 50,
            ..Default::default()
        },
    ];
    counting.take();
    for q in &cases {
        let got = cold.query(&files, q).await.unwrap();
        assert_eq!(got, expected(&all, q));
        assert!(got.iter().any(|r| r.id == some.id) || q.kind.is_some());
        let read = counting.take();
        let big_read = read.get(&big.path).copied().unwrap_or(0);
        writeln!(
            std::io::stderr(),
            "{} rows, read {big_read} of {} bytes",
            got.len(),
            big.bytes
        )
        .unwrap();
        assert!(
            big_read * 20 < big.bytes,
            "{q:?} read {big_read} of {} bytes",
            big.bytes
        );
        // Every window starts after the early file ends.
        assert!(!read.contains_key(&files[0].path), "{q:?} read {read:?}");
    }
}

#[tokio::test]
async fn delete_is_idempotent() {
    let (_dir, on_disk) = local();
    for store in [memory(), on_disk] {
        let cold = ColdEvents::new(Arc::clone(&store));
        let mut rng = Rng(6);
        let file = cold
            .write("cold/d.parquet", rows(&mut rng, 10, 2, 5, T0, 1000))
            .await
            .unwrap();
        cold.delete(&file.path).await.unwrap();
        cold.delete(&file.path).await.unwrap();
        assert!(matches!(
            cold.rows(&file.path).await,
            Err(StoreError::ObjectStore { .. })
        ));
    }
}

/// One event of the benchmark without its body (which is generated when its file is written),
/// so ten million of them fit in memory for checking answers.
#[derive(Clone, Copy)]
struct BenchKey {
    ts_ms: i64,
    id: Uuid,
    kind: u8,
    camera: u16,
    plate: Option<u32>,
}

struct BenchNames {
    cameras: Vec<String>,
    plates: Vec<String>,
}

impl BenchNames {
    fn key<'a>(&'a self, k: &BenchKey) -> RowKey<'a> {
        RowKey {
            id: k.id,
            kind: KINDS[k.kind as usize].as_str(),
            camera_id: &self.cameras[k.camera as usize],
            ts_ms: k.ts_ms,
            plate_text: k.plate.map(|p| self.plates[p as usize].as_str()),
        }
    }

    fn row(&self, k: &BenchKey, rng: &mut Rng) -> ColdRow {
        let key = self.key(k);
        ColdRow {
            id: k.id,
            kind: key.kind.to_string(),
            camera_id: key.camera_id.to_string(),
            ts_ms: k.ts_ms,
            plate_text: key.plate_text.map(str::to_string),
            body: body(k.id, key.kind, key.camera_id, k.ts_ms, key.plate_text, rng),
        }
    }
}

/// Measures the cold tier the way the mover lays it out: per kind and day, at most 200,000
/// events a file, ~800-byte bodies, 200 cameras, each plate seen ~5 times. One million events
/// by default; set `XL_COLD_BENCH_EVENTS=10000000` for the full-size figure:
/// `cargo test --release -p xl-store --test cold_parquet -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: a minute (1M events) to ten (10M) in release"]
async fn measure_cold_queries() {
    const DAY: i64 = 24 * HOUR;
    const PER_DAY: usize = 333_334;
    const PER_FILE: usize = 200_000;
    // plate_read, watchlist_hit, obscured_plate, overload, per thousand.
    const KIND_SHARE: [u64; 4] = [850, 30, 80, 40];
    let events: usize = std::env::var("XL_COLD_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (dir, store) = local();
    let cold = ColdEvents::new(Arc::clone(&store));
    let mut err = std::io::stderr();
    let mut rng = Rng(7);
    let names = BenchNames {
        cameras: (0..200).map(camera).collect(),
        plates: (0..(events / 5).max(1) as u64)
            .map(|n| format!("{}{n:07}", PROVINCES[(n % 6) as usize]))
            .collect(),
    };

    let started_all = Instant::now();
    let (mut files, mut keys) = (Vec::new(), Vec::with_capacity(events));
    let (mut write, mut verify, mut body_bytes) = (Duration::ZERO, Duration::ZERO, 0);
    let days = events.div_ceil(PER_DAY) as i64;
    for day in 0..days {
        let n = PER_DAY.min(events - keys.len());
        let mut by_kind: [Vec<BenchKey>; 4] = Default::default();
        for _ in 0..n {
            let mut pick = rng.below(1000);
            let kind = KIND_SHARE.iter().position(|share| {
                let hit = pick < *share;
                pick = pick.saturating_sub(*share);
                hit
            });
            let kind = kind.unwrap_or(0) as u8;
            let key = BenchKey {
                ts_ms: T0 + day * DAY + rng.below(DAY as u64) as i64,
                id: rng.uuid(),
                kind,
                camera: rng.below(200) as u16,
                plate: (KINDS[kind as usize] != EventKind::ObscuredPlate)
                    .then(|| rng.below(names.plates.len() as u64) as u32),
            };
            by_kind[kind as usize].push(key);
        }
        for (kind, day_keys) in by_kind.iter_mut().enumerate() {
            day_keys.sort_by_key(|k| (k.ts_ms, k.id));
            for (part, chunk) in day_keys.chunks(PER_FILE).enumerate() {
                let rows: Vec<ColdRow> = chunk.iter().map(|k| names.row(k, &mut rng)).collect();
                body_bytes += rows.iter().map(|r| r.body.len()).sum::<usize>();
                let path = format!(
                    "events/kind={}/day={day}/{part}.parquet",
                    KINDS[kind].as_str()
                );
                let started = Instant::now();
                let file = cold.write(&path, rows).await.unwrap();
                write += started.elapsed();
                let started = Instant::now();
                cold.verify(&file).await.unwrap();
                verify += started.elapsed();
                files.push(file);
            }
            keys.extend_from_slice(day_keys);
        }
    }
    let on_disk: u64 = files.iter().map(|f| f.bytes).sum();
    writeln!(
        err,
        "{events} events in {} files over {days} days: bodies {:.0} B/event, \
         {:.1} MB on disk ({:.0} B/event); write {:.1} s ({:.1} µs/event), verify {:.1} s; \
         setup {:.0} s",
        files.len(),
        body_bytes as f64 / events as f64,
        on_disk as f64 / 1e6,
        on_disk as f64 / events as f64,
        write.as_secs_f64(),
        write.as_secs_f64() * 1e6 / events as f64,
        verify.as_secs_f64(),
        started_all.elapsed().as_secs_f64(),
    )
    .unwrap();

    let probe = keys[keys.len() / 3];
    let plated = keys[keys.len() / 2..]
        .iter()
        .find(|k| k.plate.is_some())
        .unwrap();
    let plate = names.plates[plated.plate.unwrap() as usize].clone();
    let camera = names.cameras[probe.camera as usize].clone();
    let noon = T0 + (probe.ts_ms - T0) / DAY * DAY + 12 * HOUR;
    let cases = [
        (
            "exact plate, all time",
            EventQuery {
                plate: Some(plate.clone()),
                ..Default::default()
            },
        ),
        (
            "absent plate",
            EventQuery {
                plate: Some("京Z9999999".into()),
                ..Default::default()
            },
        ),
        (
            "camera + 1 h",
            EventQuery {
                camera_id: Some(camera.clone()),
                from: Some(at(noon)),
                to: Some(at(noon + HOUR)),
                limit: 1000,
                ..Default::default()
            },
        ),
        (
            "camera, from a day",
            EventQuery {
                camera_id: Some(camera.clone()),
                from: Some(at(noon)),
                ..Default::default()
            },
        ),
        (
            "plate prefix",
            EventQuery {
                plate_prefix: Some(plate[..plate.len() - 3].to_string()),
                ..Default::default()
            },
        ),
        (
            "kind, all time",
            EventQuery {
                kind: Some(EventKind::Overload),
                ..Default::default()
            },
        ),
        (
            "everything from noon, 10k",
            EventQuery {
                from: Some(at(noon)),
                limit: 10_000,
                ..Default::default()
            },
        ),
    ];
    for (name, q) in &cases {
        // The files were just written, so the OS cache is warm for every run.
        let mut timings = Vec::new();
        let mut got = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            got = cold.query(&files, q).await.unwrap();
            timings.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let mut want: Vec<&BenchKey> = keys.iter().filter(|k| q.matches(&names.key(k))).collect();
        want.sort_by_key(|k| (k.ts_ms, k.id));
        want.truncate(q.page_size() as usize);
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.ts_ms, g.id), (w.ts_ms, w.id), "{name}");
            assert!(g.body.contains(&g.id.to_string()), "{name}");
        }
        writeln!(
            err,
            "{name:>26}: {:>5} rows in {:.1} / {:.1} / {:.1} ms",
            got.len(),
            timings[0],
            timings[1],
            timings[2]
        )
        .unwrap();
    }
    drop(dir);
}
