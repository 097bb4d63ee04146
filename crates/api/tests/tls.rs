//! HTTPS with rustls: a client trusting the server's certificate signs in and is audited with
//! its address; a plain-HTTP client gets no answer.
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

#[path = "support/world.rs"]
mod support;
use support::{world, Backend};

fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make a certificate");
    (cert, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_signed_in_requests_and_refuses_plain_http() {
    let w = world(Backend::Sqlite).await;
    let (cert, key) = self_signed(w.dir.path());
    let tls = xl_api::tls::server_config(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let server = tokio::spawn(xl_api::serve_tls(
        listener,
        tls,
        w.state.clone(),
        cancel.clone(),
    ));

    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&cert).unwrap();
    for c in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let token = &w.tokens["police-analyst"];
    tls.write_all(format!("GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut reply = String::new();
    tls.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"user_id\":\"police-analyst\""), "{reply}");

    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), plain.read_to_end(&mut buf)).await;
    assert!(
        !String::from_utf8_lossy(&buf).contains("200 OK"),
        "plain HTTP must not be answered"
    );

    w.state.audit.flush().await;
    let login = w
        .tiers
        .hot
        .audit_records(&xl_store::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.record.action == "login")
        .expect("the sign-in is audited");
    assert_eq!(
        login.record.address, "127.0.0.1",
        "the client address is recorded over TLS"
    );
    cancel.cancel();
    server.await.unwrap().unwrap();
}
