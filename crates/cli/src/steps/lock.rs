//! Taking the lake lock for a writing command (`build`, `ingest …`, `run`, `demo`, `lake …`).
//! A command locks once; the steps it calls run under that lock.

use std::time::Duration;

use anyhow::Result;
use flowlake_lake::{Lake, LakeLock, LockOptions};

use crate::config::Config;
use crate::config_run::parse_duration;

/// `--wait`: shared by every command that writes to the lake.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockFlags {
    /// If another run holds the lake, wait up to this long for it (30s, 10m, 2h) instead of
    /// exiting with code 4. Default: [lock] wait in flowlake.toml, else 0.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
}

/// Take `lake`'s lock for `run_id`/`command` with the config's ttl and the flag's (or the
/// config's) wait. Fails with the lake's `Locked` error (exit 4) naming the holder.
pub async fn take(
    lake: &Lake,
    run_id: &str,
    command: &str,
    flags: &LockFlags,
    cfg: &Config,
) -> Result<LakeLock> {
    let options = LockOptions {
        ttl: cfg.lock.ttl.0.max(Duration::from_secs(1)),
        wait: flags.wait.unwrap_or(cfg.lock.wait.0),
        poll: Duration::from_millis(500),
    };
    Ok(lake.lock(run_id, command, &options).await?)
}

/// Run `work` holding `lake`'s lock (a new run id names the holder), and release it whatever
/// the outcome; a failed release after a failed `work` reports `work`'s error.
pub async fn with_lock<T>(
    lake: &Lake,
    command: &str,
    flags: &LockFlags,
    cfg: &Config,
    work: impl AsyncFnOnce(&LakeLock) -> Result<T>,
) -> Result<T> {
    lake.check().await?;
    let run_id = flowlake_lake::new_run_id(chrono::Utc::now());
    let lock = take(lake, &run_id, command, flags, cfg).await?;
    let result = work(&lock).await;
    let released = lock.release().await;
    let value = result?;
    released?;
    Ok(value)
}
