//! `xl retention run`.
use anyhow::Context;
use chrono::DateTime;

use crate::args::StoreArgs;
use crate::output::stdout_line;

pub fn run(store_args: StoreArgs, now: Option<&str>) -> anyhow::Result<()> {
    let system = super::system_config(&store_args)?;
    let policy = super::tiers::policy(&system.retention)?;
    let now = match now {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--now {t:?} must be an RFC 3339 time"))?,
        None => chrono::Utc::now().with_timezone(&xl_schema::china_offset()),
    };
    let rt = super::tokio_runtime()?;
    let report = rt.block_on(async {
        let open = super::tiers::open(&system).await?;
        let report = xl_store::run_retention(&open.tiers, Some(&open.evidence), &policy, now).await;
        open.tiers.hot.close().await;
        anyhow::Ok(report?)
    })?;
    stdout_line(&serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
