//! RTSP serving: a non-shared media factory per mount whose appsrc is fed by one pacing thread
//! for all clients, starting each client at the next keyframe of the wall-clock timeline.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;
use tracing::{debug, info, warn};
use xl_schema::VideoCodec;

use crate::encode::AccessUnit;
use crate::scenario::Scenario;
use crate::timeline::Timeline;
use crate::truth::{iteration_records, TruthWriter};
use crate::SimError;

/// A client whose appsrc holds more than this is not keeping up: skip to the next keyframe.
const MAX_QUEUED_BYTES: u64 = 4 << 20;
/// Truth for an iteration is written this long before it starts.
const TRUTH_LEAD: Duration = Duration::from_secs(2);

struct Client {
    camera: usize,
    src: gst_app::AppSrc,
    start: u64,
    base: Option<gst::ClockTime>,
    resync: bool,
    /// AUs pushed while the RTSP session is still being set up (see `push_frame`).
    primed: u8,
    flowing: bool,
}

pub struct Shared {
    pub clips: Vec<Vec<AccessUnit>>,
    pub timeline: Timeline,
    clients: Mutex<Vec<Client>>,
    stop: AtomicBool,
}

pub struct Server {
    shared: Arc<Shared>,
    server: rtsp::RTSPServer,
    context: glib::MainContext,
    source: Option<glib::SourceId>,
    main_loop: glib::MainLoop,
    loop_thread: Option<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
    pub port: u16,
}

fn launch(codec: VideoCodec) -> &'static str {
    match codec {
        VideoCodec::H264 => "( appsrc name=src is-live=true format=time ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )",
        VideoCodec::H265 => "( appsrc name=src is-live=true format=time ! h265parse ! rtph265pay name=pay0 pt=96 config-interval=-1 )",
    }
}

fn configure(shared: &Shared, camera: usize, codec: VideoCodec, media: &rtsp::RTSPMedia) {
    let Some(src) = media
        .element()
        .downcast::<gst::Bin>()
        .ok()
        .and_then(|bin| bin.by_name("src"))
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
    else {
        warn!(camera = camera + 1, "media has no appsrc named src");
        return;
    };
    let caps = gst::Caps::builder(match codec {
        VideoCodec::H264 => "video/x-h264",
        VideoCodec::H265 => "video/x-h265",
    })
    .field("stream-format", "byte-stream")
    .field("alignment", "au")
    .build();
    src.set_caps(Some(&caps));
    src.set_format(gst::Format::Time);
    let start = shared
        .timeline
        .next_keyframe(Instant::now(), shared.timeline.fps as u64);
    debug!(
        camera = camera + 1,
        start_frame = start,
        "client media configured"
    );
    if let Ok(mut clients) = shared.clients.lock() {
        clients.push(Client {
            camera,
            src,
            start,
            base: None,
            resync: false,
            primed: 0,
            flowing: false,
        });
    }
}

/// Pushes frame `k` to every started client; drops clients whose pipeline has gone away.
fn push_frame(shared: &Shared, k: u64) {
    let Ok(mut clients) = shared.clients.lock() else {
        return;
    };
    let frame_ns = 1_000_000_000 / shared.timeline.fps as u64;
    clients.retain_mut(|c| {
        if k < c.start {
            return true;
        }
        let clip = &shared.clips[c.camera];
        let au = &clip[(k % clip.len() as u64) as usize];
        // The server needs one AU to build the SDP, then holds the stream blocked until PLAY.
        // Pushing on meanwhile would queue frames that later leave as a burst, so prime with
        // two AUs (the first is held in the blocked thread, the second waits in the queue),
        // wait for the queue to drain, then resume at the next keyframe in real time.
        if !c.flowing {
            if c.primed == 2 {
                if c.src.current_level_buffers() > 0 {
                    return true;
                }
                c.flowing = true;
                c.resync = true;
            } else if c.primed == 0 && !au.key {
                return true;
            }
        }
        if c.src.current_level_bytes() > MAX_QUEUED_BYTES {
            c.resync = true;
        }
        if c.resync && !au.key {
            return true;
        }
        c.resync = false;
        let base = *c
            .base
            .get_or_insert_with(|| c.src.current_running_time().unwrap_or(gst::ClockTime::ZERO));
        let mut buffer = gst::Buffer::from_slice(au.data.clone());
        if let Some(b) = buffer.get_mut() {
            let pts = base + gst::ClockTime::from_nseconds((k - c.start) * frame_ns);
            b.set_pts(pts);
            b.set_dts(pts);
            b.set_duration(gst::ClockTime::from_nseconds(frame_ns));
            if !au.key {
                b.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
        }
        match c.src.push_buffer(buffer) {
            Ok(_) => {
                if !c.flowing {
                    c.primed += 1;
                }
                true
            }
            Err(e) => {
                debug!(camera = c.camera + 1, error = ?e, "client gone");
                false
            }
        }
    });
}

fn tick_loop(shared: Arc<Shared>, scenarios: Vec<Scenario>, mut truth: TruthWriter) {
    let tl = shared.timeline.clone();
    let len = shared.clips.first().map_or(1, |c| c.len() as u64).max(1);
    let mut next_iteration = 1u64;
    let mut k = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let due = tl.instant_of(k);
        let now = Instant::now();
        if due > now {
            // Short sleeps keep stop() prompt.
            std::thread::sleep((due - now).min(Duration::from_millis(50)));
            continue;
        }
        if now - due > Duration::from_millis(500) {
            // Stalled (suspended machine, overload): rejoin the timeline instead of bursting.
            let now_k = tl.frame_at(now);
            warn!(
                skipped = now_k - k,
                "pacing thread fell behind; skipping frames"
            );
            k = now_k;
            if let Ok(mut clients) = shared.clients.lock() {
                clients.iter_mut().for_each(|c| c.resync = true);
            }
        }
        while tl.instant_of(next_iteration * len) <= Instant::now() + TRUTH_LEAD {
            let records = iteration_records(&scenarios, tl.t0_wall, next_iteration);
            if let Err(e) = truth.write(&records) {
                warn!(error = %e, "could not append ground truth");
            }
            next_iteration += 1;
        }
        push_frame(&shared, k);
        k += 1;
    }
    truth.sync();
}

impl Server {
    /// Binds and starts serving; iteration 0's truth is written before T0.
    pub fn start(
        bind: &str,
        port: u16,
        codec: VideoCodec,
        clips: Vec<Vec<AccessUnit>>,
        scenarios: Vec<Scenario>,
        mut truth: TruthWriter,
    ) -> Result<Server, SimError> {
        let server_err = |message: String| SimError::Server {
            bind: bind.to_string(),
            port,
            message,
        };
        let server = rtsp::RTSPServer::new();
        server.set_address(bind);
        server.set_service(&port.to_string());
        let pool = rtsp::RTSPThreadPool::new();
        // The default pool prepares one media at a time (VIDEO.md): allow all cameras at once.
        pool.set_max_threads((clips.len() as i32 * 2 + 4).max(8));
        server.set_thread_pool(Some(&pool));
        let mounts = server
            .mount_points()
            .ok_or_else(|| server_err("server has no mount points".into()))?;

        // T0 leaves time to write iteration 0's truth before its first frame.
        let now = Instant::now();
        let lead = Duration::from_millis(300);
        let wall = chrono::Utc::now().with_timezone(&xl_schema::china_offset())
            + chrono::Duration::from_std(lead).unwrap_or_default();
        let timeline = Timeline {
            t0: now + lead,
            t0_wall: wall,
            fps: scenarios.first().map_or(25, |s| s.fps),
        };
        truth.write(&iteration_records(&scenarios, timeline.t0_wall, 0))?;
        let shared = Arc::new(Shared {
            clips,
            timeline,
            clients: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        for camera in 0..shared.clips.len() {
            let factory = rtsp::RTSPMediaFactory::new();
            factory.set_launch(launch(codec));
            factory.set_shared(false);
            let sh = Arc::clone(&shared);
            factory.connect_media_configure(move |_, media| configure(&sh, camera, codec, media));
            mounts.add_factory(&format!("/cam/{}", camera + 1), factory);
        }

        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let source = server
            .attach(Some(&context))
            .map_err(|e| server_err(format!("cannot listen: {e}")))?;
        let bound =
            u16::try_from(server.bound_port()).map_err(|_| server_err("no bound port".into()))?;
        let loop_thread = {
            let (ctx, ml) = (context.clone(), main_loop.clone());
            std::thread::Builder::new()
                .name("xl-sim-rtsp".into())
                .spawn(move || {
                    if let Err(e) = ctx.with_thread_default(|| ml.run()) {
                        warn!(error = %e, "RTSP main context unavailable");
                    }
                })
                .map_err(|e| server_err(format!("spawning RTSP thread: {e}")))?
        };
        let ticker = {
            let sh = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("xl-sim-pace".into())
                .spawn(move || tick_loop(sh, scenarios, truth))
                .map_err(|e| server_err(format!("spawning pacing thread: {e}")))?
        };
        info!(
            bind,
            port = bound,
            cameras = shared.clips.len(),
            "RTSP simulator serving"
        );
        Ok(Server {
            shared,
            server,
            context,
            source: Some(source),
            main_loop,
            loop_thread: Some(loop_thread),
            ticker: Some(ticker),
            port: bound,
        })
    }

    /// Wall-clock time of timeline frame 0.
    pub fn t0_wall(&self) -> chrono::DateTime<chrono::FixedOffset> {
        self.shared.timeline.t0_wall
    }

    pub fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.server
            .client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
        if let Some(id) = self.source.take() {
            if let Some(src) = self.context.find_source_by_id(&id) {
                src.destroy();
            }
        }
        // Quit from inside the loop: a quit() that lands before run() starts would be lost.
        let ml = self.main_loop.clone();
        self.context.invoke(move || ml.quit());
        if let Some(t) = self.loop_thread.take() {
            let _ = t.join();
        }
        if let Ok(mut clients) = self.shared.clients.lock() {
            for c in clients.drain(..) {
                let _ = c.src.end_of_stream();
            }
        }
        info!(port = self.port, "RTSP simulator stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.ticker.is_some() {
            self.shutdown();
        }
    }
}
