use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::info;
use xl_schema::VideoCodec;
use xl_sim::{SimConfig, Simulator};

use crate::args::{CodecArg, SimArgs};

pub fn config(a: &SimArgs) -> SimConfig {
    SimConfig {
        cameras: a.cameras,
        bind: a.bind.clone(),
        port: a.port,
        seed: a.seed,
        width: a.width,
        height: a.height,
        fps: a.fps,
        codec: match a.codec {
            CodecArg::H264 => VideoCodec::H264,
            CodecArg::H265 => VideoCodec::H265,
        },
        clip_secs: a.clip_secs,
        truth_path: a.truth.clone(),
        cache_dir: a.cache_dir.clone(),
    }
}

pub fn run(a: SimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.cameras >= 1, "--cameras must be at least 1");
    let sim = Simulator::start(config(&a)).context("simulator failed to start")?;
    for url in sim.urls() {
        info!(%url, "serving");
    }
    let rt = super::tokio_runtime()?;
    let cancel = CancellationToken::new();
    rt.block_on(async {
        super::shutdown::on_signal_or_timeout(cancel.clone(), a.duration);
        cancel.cancelled().await;
    });
    sim.stop();
    Ok(())
}
