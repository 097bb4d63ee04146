//! In-process RTSP server (gst-rtsp-server) and log capture for the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use xl_ingest::{BackoffPolicy, CameraHealth, HealthRegistry};

use gstreamer_rtsp_server as rtsp;
use rtsp::gio;
use rtsp::glib;
use rtsp::prelude::*;

pub const H264_320X240: &str = "( videotestsrc is-live=true \
    ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
    ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 option-string=scenecut=0 \
    ! video/x-h264,profile=high ! rtph264pay name=pay0 pt=96 )";

pub const AUDIO_ONLY: &str = "( audiotestsrc is-live=true ! audioconvert \
    ! audio/x-raw,format=S16BE,rate=8000,channels=1 ! rtpL16pay name=pay0 pt=97 )";

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An RTSP server on its own GLib main loop thread, serving `launch` at `/x`.
pub struct TestServer {
    context: glib::MainContext,
    main_loop: glib::MainLoop,
    server: rtsp::RTSPServer,
    source: glib::Source,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(port: u16, launch: &str) -> Self {
        gstreamer::init().unwrap();
        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let server = rtsp::RTSPServer::new();
        server.set_address("127.0.0.1");
        server.set_service(&port.to_string());
        let factory = rtsp::RTSPMediaFactory::new();
        factory.set_launch(launch);
        factory.set_shared(true);
        server.mount_points().unwrap().add_factory("/x", factory);
        let source = server.create_source(None::<&gio::Cancellable>).unwrap();
        source.attach(Some(&context));
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = {
            let context = context.clone();
            let main_loop = main_loop.clone();
            std::thread::spawn(move || {
                context
                    .with_thread_default(|| {
                        ready_tx.send(()).unwrap();
                        main_loop.run();
                    })
                    .unwrap();
            })
        };
        ready_rx.recv().unwrap();
        Self {
            context,
            main_loop,
            server,
            source,
            thread: Some(thread),
        }
    }

    /// Closes the listening socket and every client connection, like a camera that reboots.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let server = self.server.clone();
        let source = self.source.clone();
        let main_loop = self.main_loop.clone();
        self.context.invoke(move || {
            server.client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
            source.destroy();
            main_loop.quit();
        });
        thread.join().unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Collects everything `tracing` writes while installed as the thread's default subscriber.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Installs the capture as the process-wide subscriber, so events from every thread are
    /// seen (thread-local subscribers miss events when callsite interest was cached by another
    /// test thread). Use it in a test binary with a single test.
    pub fn install_global(&self) {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Backoff short enough for tests to see several reconnects.
pub fn fast_policy() -> BackoffPolicy {
    BackoffPolicy {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        multiplier: 2.0,
        jitter: 0.1,
        reset_after: Duration::from_secs(60),
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub async fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !ready() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The camera's health; registers it if the ingest task has not started yet.
pub fn health(reg: &HealthRegistry, id: &str) -> CameraHealth {
    reg.camera(id).snapshot()
}
