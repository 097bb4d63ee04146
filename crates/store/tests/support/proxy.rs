//! A TCP proxy in front of the real PostgreSQL server that can cut the connection: an outage as
//! the store sees it (open connections reset, new ones refused) without stopping the shared
//! server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    upstream: SocketAddr,
    running: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Arc::new(Self {
            port,
            upstream,
            running: Mutex::new(None),
            connections: Arc::new(std::sync::Mutex::new(Vec::new())),
        });
        proxy.serve(listener).await;
        proxy
    }

    async fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let connections = self.connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().unwrap().push(conn);
            }
        });
        *self.running.lock().await = Some(task);
    }

    /// Cuts every open connection and stops accepting new ones.
    pub async fn cut(&self) {
        if let Some(task) = self.running.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
        for conn in self.connections.lock().unwrap().drain(..) {
            conn.abort();
        }
    }

    /// Accepts connections again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener).await;
    }
}
