//! `xl demo`: simulator + pipeline + store on embedded defaults.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::info;
use xl_config::{
    ApiConfig, CameraConfig, ColdConfig, DecodeSetting, EvidenceConfig, RetentionConfig,
    RuntimeConfig, StoreConfig, SystemConfig, TransportSetting, WimSourcesConfig,
};
use xl_ingest::HealthRegistry;
use xl_pipeline::{run_live, LiveOptions, WimRouter};
use xl_schema::VideoCodec;
use xl_sim::{SimConfig, Simulator, WorldFiles};

use crate::args::DemoArgs;
use crate::output::{event_line, stdout_line};

const HEALTH_EVERY: Duration = Duration::from_secs(5);

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.cameras >= 1, "--cameras must be at least 1");
    let ort_library = super::run::init_runtimes(None)?;
    xl_config::PipelineConfig::load(&a.pipeline)?;
    let world = WorldFiles {
        dir: a.world.clone(),
    };
    let sim = Simulator::start(SimConfig {
        cameras: a.cameras,
        bind: "127.0.0.1".into(),
        port: a.port,
        seed: a.seed,
        width: 1280,
        height: 720,
        fps: 25,
        codec: VideoCodec::H264,
        clip_secs: 60,
        truth_path: a.truth.clone(),
        cache_dir: "var/sim-cache".into(),
        world: Some(world.clone()),
        world_horizon_secs: 4 * 3600,
    })
    .context("simulator failed to start")?;
    // The shipped pipeline with the rules generated for the simulated deployment.
    let pipeline = super::pipeline_file::with_rules(
        &a.pipeline,
        &world.rules(),
        &world.dir.join("pipeline.toml"),
    )?;
    let cameras = sim
        .urls()
        .into_iter()
        .enumerate()
        .map(|(i, url)| CameraConfig {
            id: xl_sim::camera_id(i as u32 + 1),
            name: format!("Demo camera {}", i + 1),
            url,
            pipeline: pipeline.clone(),
            lat: xl_sim::camera_position(i as u32 + 1).0,
            lon: xl_sim::camera_position(i as u32 + 1).1,
            decode: DecodeSetting::All,
            sample_fps: None,
            transport: TransportSetting::Tcp,
            // Two departments share the demo's roads: traffic police own the odd cameras,
            // public security the even ones; every other camera is restricted (level 2).
            department: if i % 2 == 0 { "traffic" } else { "police" }.into(),
            share_level: if i % 4 < 2 { 1 } else { 2 },
        })
        .collect();
    let system = SystemConfig {
        store: StoreConfig {
            url: a.store.clone(),
            ..StoreConfig::default()
        },
        evidence: EvidenceConfig {
            root: a.evidence.clone(),
            url: None,
        },
        runtime: RuntimeConfig::default(),
        cameras,
        hooks: Default::default(),
        api: Some(ApiConfig {
            listen: a.listen,
            rate_per_minute: None,
            audit: None,
            tls_cert: None,
            tls_key: None,
            tile_url: None,
            tile_attribution: None,
        }),
        wim: WimSourcesConfig {
            jsonl: vec![world.wim()],
        },
        cold: Some(ColdConfig {
            url: a
                .evidence
                .with_file_name("cold")
                .to_string_lossy()
                .into_owned(),
        }),
        retention: RetentionConfig::default(),
    };
    let workers = a.workers.unwrap_or_else(super::default_workers);
    let rt = super::tokio_runtime()?;
    let result = rt.block_on(async {
        let cancel = CancellationToken::new();
        super::shutdown::on_signal_or_timeout(cancel.clone(), a.duration);
        let (events, mut rx) = tokio::sync::broadcast::channel(1024);
        let health = Arc::new(HealthRegistry::new());
        tokio::spawn(async move {
            while let Ok(event) = rx.recv().await {
                let _ = stdout_line(&event_line(&event));
            }
        });
        tokio::spawn(print_health(health.clone(), cancel.clone()));
        info!(store = %a.store, evidence = %a.evidence.display(), truth = %a.truth.display(), "demo running; Ctrl-C to stop");
        let wim = Arc::new(WimRouter::new());
        let services = super::services::start(&system, wim.clone(), events.clone(), cancel.clone()).await?;
        let token_file = a.evidence.with_file_name("demo-token");
        demo_token(&a.store, &token_file).await?;
        info!(token_file = %token_file.display(), api = %a.listen, "API sign-in: an admin token is in the token file");
        let opts = LiveOptions { system, workers, events, health, health_interval: Duration::from_secs(2), ort_library, wim };
        let result = run_live(opts, cancel.clone()).await;
        cancel.cancel();
        services.wait().await;
        anyhow::Ok(result?)
    });
    sim.stop();
    let done = result.context("pipeline failed")?;
    info!(events = done.events_written, "demo stopped");
    Ok(())
}

async fn print_health(health: Arc<HealthRegistry>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(HEALTH_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {
                let parts: Vec<String> = health
                    .snapshot()
                    .iter()
                    .map(|h| {
                        let state = format!("{:?}", h.state).to_lowercase();
                        format!("{} {state} {:.1}fps dec {} drop {} rc {}", h.camera_id, h.fps_in, h.frames_decoded, h.frames_dropped, h.reconnects)
                    })
                    .collect();
                let _ = stdout_line(&format!("health | {}", parts.join(" | ")));
            }
        }
    }
}

/// Makes sure the demo has an admin ("demo-admin" of the traffic department) and writes a
/// fresh token for them to `path` (mode 0600), so the API and command view can be signed in to
/// without the secret passing through a log.
async fn demo_token(store_url: &str, path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let store = xl_store::Store::open(store_url).await?;
    store.ensure_department("traffic").await?;
    match store
        .add_user("demo-admin", "traffic", xl_store::Role::Admin)
        .await
    {
        Ok(()) | Err(xl_store::StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let issued = store.create_token("demo-admin", "xl demo", None).await?;
    store.close().await;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{}", issued.secret)?;
    Ok(())
}
