//! The S3 object-store path against a real S3-compatible server (moto's `moto_server`, started
//! per test by `support/s3.rs`; `make test` / `scripts/setup.sh` install it).

#[path = "support/s3.rs"]
mod s3;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use s3::S3Server;

/// `len` bytes of a deterministic, non-repeating-looking pattern (so a truncated, shifted or
/// duplicated part would not compare equal).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

async fn list_locations(store: &impl ObjectStore, prefix: Option<&Path>) -> Vec<String> {
    let mut locations: Vec<String> = store
        .list(prefix)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .expect("list");
    locations.sort();
    locations
}

#[tokio::test]
async fn put_get_head_list_delete() {
    let server = S3Server::start();
    let bucket = server.create_bucket("crud");
    let store = server.store(&bucket);

    let objects = [
        ("cams/a/0001.jpg", "frame a1"),
        ("cams/a/0002.jpg", "frame a2"),
        ("cams/b/0001.jpg", "frame b1"),
        ("events.parquet", "not really parquet"),
    ];
    for (key, body) in objects {
        store
            .put(&Path::from(key), PutPayload::from(body.as_bytes().to_vec()))
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
    }

    // get
    for (key, body) in objects {
        let got = store
            .get(&Path::from(key))
            .await
            .unwrap_or_else(|e| panic!("get {key}: {e}"))
            .bytes()
            .await
            .expect("read body");
        assert_eq!(got, Bytes::from(body), "{key}");
    }

    // head
    let meta = store
        .head(&Path::from("cams/a/0002.jpg"))
        .await
        .expect("head");
    assert_eq!(meta.location, Path::from("cams/a/0002.jpg"));
    assert_eq!(meta.size, "frame a2".len() as u64);
    assert!(meta.e_tag.is_some(), "S3 returns an ETag: {meta:?}");

    // list: everything, a prefix, and one level with a delimiter
    assert_eq!(
        list_locations(&store, None).await,
        vec![
            "cams/a/0001.jpg",
            "cams/a/0002.jpg",
            "cams/b/0001.jpg",
            "events.parquet"
        ]
    );
    assert_eq!(
        list_locations(&store, Some(&Path::from("cams/a"))).await,
        vec!["cams/a/0001.jpg", "cams/a/0002.jpg"]
    );
    // A prefix is a path prefix, not a string prefix: "cams/a" must not match "cams/ab/..".
    store
        .put(&Path::from("cams/ab/x.jpg"), PutPayload::from_static(b"x"))
        .await
        .expect("put cams/ab/x.jpg");
    assert_eq!(
        list_locations(&store, Some(&Path::from("cams/a"))).await,
        vec!["cams/a/0001.jpg", "cams/a/0002.jpg"]
    );
    let level = store
        .list_with_delimiter(Some(&Path::from("cams")))
        .await
        .expect("list_with_delimiter");
    let mut dirs: Vec<String> = level
        .common_prefixes
        .iter()
        .map(ToString::to_string)
        .collect();
    dirs.sort();
    assert_eq!(dirs, vec!["cams/a", "cams/ab", "cams/b"]);
    assert!(level.objects.is_empty(), "{:?}", level.objects);

    // overwrite
    store
        .put(
            &Path::from("events.parquet"),
            PutPayload::from_static(b"v2"),
        )
        .await
        .expect("overwrite");
    let got = store
        .get(&Path::from("events.parquet"))
        .await
        .expect("get after overwrite")
        .bytes()
        .await
        .expect("read body");
    assert_eq!(got, Bytes::from_static(b"v2"));

    // delete
    store
        .delete(&Path::from("cams/a/0001.jpg"))
        .await
        .expect("delete");
    let err = store
        .get(&Path::from("cams/a/0001.jpg"))
        .await
        .expect_err("get after delete");
    assert!(is_not_found(&err), "{err:?}");
    assert_eq!(
        list_locations(&store, Some(&Path::from("cams/a"))).await,
        vec!["cams/a/0002.jpg"]
    );
    // S3 deletes are idempotent.
    store
        .delete(&Path::from("cams/a/0001.jpg"))
        .await
        .expect("deleting a missing key");
}

#[tokio::test]
async fn missing_key_is_not_found() {
    let server = S3Server::start();
    let bucket = server.create_bucket("missing");
    let store = server.store(&bucket);

    let missing = Path::from("no/such/key.bin");
    let err = store.get(&missing).await.expect_err("get of a missing key");
    assert!(is_not_found(&err), "get: {err:?}");
    let err = store
        .head(&missing)
        .await
        .expect_err("head of a missing key");
    assert!(is_not_found(&err), "head: {err:?}");
    assert!(list_locations(&store, Some(&Path::from("no")))
        .await
        .is_empty());
}

#[tokio::test]
async fn five_megabyte_object_round_trips() {
    let server = S3Server::start();
    let bucket = server.create_bucket("big");
    let store = server.store(&bucket);

    let data = pattern(5 * 1024 * 1024, 5);
    let path = Path::from("evidence/clip.mp4");
    store
        .put(&path, PutPayload::from(data.clone()))
        .await
        .expect("put 5 MiB");
    assert_eq!(
        store.head(&path).await.expect("head").size,
        data.len() as u64
    );
    let got = store
        .get(&path)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("read body");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "5 MiB body differs after the round trip");

    // A ranged read from the middle.
    let range = 3_000_000..3_000_100;
    let got = store
        .get_range(&path, range.start as u64..range.end as u64)
        .await
        .expect("get_range");
    assert_eq!(&got[..], &data[range]);
}

#[tokio::test]
async fn multipart_upload_round_trips() {
    let server = S3Server::start();
    let bucket = server.create_bucket("multipart");
    let store = server.store(&bucket);

    // S3 requires every part but the last to be at least 5 MiB.
    let first = pattern(5 * 1024 * 1024, 1);
    let last = pattern(1000, 2);
    let path = Path::from("cold/events-0001.parquet");
    let mut upload = store.put_multipart(&path).await.expect("start multipart");
    upload
        .put_part(PutPayload::from(first.clone()))
        .await
        .expect("part 1");
    upload
        .put_part(PutPayload::from(last.clone()))
        .await
        .expect("part 2");
    upload.complete().await.expect("complete multipart");

    let got = store
        .get(&path)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("read body");
    let mut want = first;
    want.extend_from_slice(&last);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "multipart body differs after the round trip");
}

#[tokio::test]
async fn two_servers_do_not_collide() {
    // Started at the same time, as parallel tests do.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(S3Server::start);
        let b = s.spawn(S3Server::start);
        (a.join().expect("server a"), b.join().expect("server b"))
    });
    assert_ne!(a.port(), b.port());
    assert_ne!(a.endpoint(), b.endpoint());

    let bucket_a = a.create_bucket("shared");
    let bucket_b = b.create_bucket("shared");
    assert_ne!(bucket_a, bucket_b);
    let (store_a, store_b) = (a.store(&bucket_a), b.store(&bucket_b));

    let key = Path::from("same/key.txt");
    store_a
        .put(&key, PutPayload::from_static(b"from a"))
        .await
        .expect("put a");
    store_b
        .put(&key, PutPayload::from_static(b"from b"))
        .await
        .expect("put b");
    let got_a = store_a
        .get(&key)
        .await
        .expect("get a")
        .bytes()
        .await
        .expect("body a");
    let got_b = store_b
        .get(&key)
        .await
        .expect("get b")
        .bytes()
        .await
        .expect("body b");
    assert_eq!(got_a, Bytes::from_static(b"from a"));
    assert_eq!(got_b, Bytes::from_static(b"from b"));

    // A bucket made on one server does not exist on the other.
    let err = b
        .store(&bucket_a)
        .put(&key, PutPayload::from_static(b"nope"))
        .await
        .expect_err("put into a bucket of the other server");
    assert!(
        err.to_string().contains("NoSuchBucket") || is_not_found(&err),
        "{err}"
    );

    // Dropping one server leaves the other serving.
    drop(a);
    assert_eq!(list_locations(&store_b, None).await, vec!["same/key.txt"]);
}
