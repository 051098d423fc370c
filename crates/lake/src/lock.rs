//! The lake lock: one writer at a time, as a lease object on the store itself.
//!
//! `locks/lake.json` names its holder (run id, host, pid, command, start, expiry). It is
//! created with a create-if-absent put (`PutMode::Create`: `If-None-Match: *` on S3, a hard
//! link on a local folder), so of two runs racing for a free lake exactly one wins. The holder
//! renews the lease every third of its time to live: a conditional put on the ETag it last
//! wrote (`PutMode::Update`) where the store supports it (S3, memory); on a local folder,
//! which has no conditional update, it re-reads the lease and rewrites it only while it still
//! names this holder.
//!
//! A lease whose holder died is taken over when it has expired, or at once when its holder ran
//! on this host and its process is gone. Two runs may find the same dead lease; to take it over
//! a run must first create `locks/takeover/<lease_id>` (create-if-absent again), so only one
//! of them deletes it, and only after re-reading that the lease is still the dead one. The
//! winner then competes for the free lake like any other run. A holder whose renewal finds
//! another lease (it was paused past its expiry) marks the lock lost; [`LakeLock::ensure_held`]
//! fails from then on, so it never publishes over the new holder's work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::{ObjectStoreExt, PutMode, PutOptions, UpdateVersion};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::location::Lake;

/// The lease object, relative to the lake root.
pub const LOCK_PATH: &str = "locks/lake.json";
const TAKEOVER_DIR: &str = "locks/takeover";

/// Who holds the lake: the content of `locks/lake.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Unique per acquisition (the run id plus a random suffix).
    pub lease_id: String,
    /// The run that holds it.
    pub run_id: String,
    /// The command (`build`, `run daily`, …).
    pub command: String,
    /// Host name.
    pub host: String,
    /// Process id on that host.
    pub pid: u32,
    /// When the holder took the lake.
    pub started_at: DateTime<Utc>,
    /// When the lease lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} (`{}`, pid {} on {}, since {}, lease until {})",
            self.run_id,
            self.command,
            self.pid,
            self.host,
            self.started_at.format("%Y-%m-%d %H:%M:%SZ"),
            self.expires_at.format("%Y-%m-%d %H:%M:%SZ"),
        )
    }
}

/// How to take the lock.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// How long a lease lives without renewal (default 2 minutes).
    pub ttl: Duration,
    /// How long to wait for a live holder before giving up (default: not at all).
    pub wait: Duration,
    /// How often to look again while waiting (default 1 s).
    pub poll: Duration,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            ttl: Duration::from_secs(120),
            wait: Duration::ZERO,
            poll: Duration::from_secs(1),
        }
    }
}

/// This machine's name: `$HOSTNAME`, else `/etc/hostname`, else `unknown`.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .or_else(|_| std::fs::read_to_string("/etc/hostname"))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Whether `pid` is a live process on this host (Linux `/proc`; elsewhere assumed alive, so
/// only expiry frees the lease).
fn process_alive(pid: u32) -> bool {
    let proc_root = std::path::Path::new("/proc");
    if !proc_root.join("self").exists() {
        return true;
    }
    // A zombie (killed, not yet reaped by its parent) holds nothing any more.
    match std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

impl LockHolder {
    /// Whether the holder is certainly gone: its lease expired, or it ran on this host and its
    /// process no longer exists.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        now > self.expires_at
            || (self.host == host_name()
                && self.pid != std::process::id()
                && !process_alive(self.pid))
    }
}

/// A held lake lock; renewed in the background until [`LakeLock::release`] or drop.
#[derive(Debug)]
pub struct LakeLock {
    lake: Lake,
    holder: Arc<Mutex<(LockHolder, Option<String>)>>,
    lost: Arc<AtomicBool>,
    renewer: Option<JoinHandle<()>>,
}

impl Lake {
    /// Take the lake lock for `run_id`/`command`, waiting up to `options.wait` for a live
    /// holder. Fails with [`Error::Locked`] naming the holder when the wait runs out.
    pub async fn lock(
        &self,
        run_id: &str,
        command: &str,
        options: &LockOptions,
    ) -> Result<LakeLock> {
        let started = tokio::time::Instant::now();
        let suffix: u32 = rand::rng().random();
        let ttl = chrono::Duration::from_std(options.ttl).unwrap_or(chrono::Duration::minutes(2));
        loop {
            let now = Utc::now();
            let mine = LockHolder {
                lease_id: format!("{run_id}-{suffix:08x}"),
                run_id: run_id.to_string(),
                command: command.to_string(),
                host: host_name(),
                pid: std::process::id(),
                started_at: now,
                expires_at: now + ttl,
            };
            if let Some(etag) = self.create_lease(&mine).await? {
                tracing::info!(run_id, "took the lake lock");
                let holder = Arc::new(Mutex::new((mine, etag)));
                let lost = Arc::new(AtomicBool::new(false));
                let renewer = tokio::spawn(renew_loop(
                    self.clone(),
                    holder.clone(),
                    lost.clone(),
                    options.ttl,
                ));
                return Ok(LakeLock {
                    lake: self.clone(),
                    holder,
                    lost,
                    renewer: Some(renewer),
                });
            }
            let Some((current, _)) = self.read_lease().await? else {
                continue; // released between our put and our read: try again at once
            };
            if current.is_stale(Utc::now()) {
                self.take_over(&current).await?;
                continue;
            }
            if started.elapsed() >= options.wait {
                return Err(Error::Locked {
                    url: self.url().to_string(),
                    holder: Box::new(current),
                });
            }
            tracing::info!(holder = %current, "the lake is locked; waiting");
            tokio::time::sleep(options.poll).await;
        }
    }

    /// The current holder, if any (for `flowlake` commands that only report it).
    pub async fn lock_holder(&self) -> Result<Option<LockHolder>> {
        Ok(self.read_lease().await?.map(|(h, _)| h))
    }

    /// Create the lease if absent: `Some(etag)` when we got it, `None` when another holds it.
    async fn create_lease(&self, holder: &LockHolder) -> Result<Option<Option<String>>> {
        let path = self.path(LOCK_PATH);
        let body = serde_json::to_vec_pretty(holder).map_err(|source| Error::Json {
            path: LOCK_PATH.into(),
            source,
        })?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.store().put_opts(&path, body.into(), opts).await {
            Ok(r) => Ok(Some(r.e_tag)),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(None),
            Err(e) => Err(self.classify("creating the lock", &path, e)),
        }
    }

    async fn read_lease(&self) -> Result<Option<(LockHolder, Option<String>)>> {
        let path = self.path(LOCK_PATH);
        let got = match self.store().get(&path).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.classify("reading the lock", &path, e)),
        };
        let etag = got.meta.e_tag.clone();
        let bytes = got
            .bytes()
            .await
            .map_err(|e| self.classify("reading the lock", &path, e))?;
        match serde_json::from_slice::<LockHolder>(&bytes) {
            Ok(h) => Ok(Some((h, etag))),
            // An unreadable lease cannot name a live holder: treat it as expired long ago.
            Err(e) => {
                tracing::warn!(error = %e, "the lake lock is unreadable; treating it as stale");
                Ok(Some((
                    LockHolder {
                        lease_id: format!("unreadable-{}", hex_digest(&bytes)),
                        run_id: "unknown".into(),
                        command: "unknown".into(),
                        host: "unknown".into(),
                        pid: 0,
                        started_at: DateTime::<Utc>::MIN_UTC,
                        expires_at: DateTime::<Utc>::MIN_UTC,
                    },
                    etag,
                )))
            }
        }
    }

    /// Remove a dead holder's lease, if we are the one run allowed to.
    async fn take_over(&self, dead: &LockHolder) -> Result<()> {
        let marker = self.path(&format!("{TAKEOVER_DIR}/{}", dead.lease_id));
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let note = format!(
            "{{\"by_pid\":{},\"host\":{:?}}}",
            std::process::id(),
            host_name()
        );
        match self
            .store()
            .put_opts(&marker, note.into_bytes().into(), opts)
            .await
        {
            Ok(_) => {}
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {
                // Another run is taking it over (or did): give it a moment.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Ok(());
            }
            Err(e) => return Err(self.classify("taking over the lock", &marker, e)),
        }
        match self.read_lease().await? {
            Some((now, _)) if now.lease_id == dead.lease_id => {
                tracing::warn!(holder = %dead, "taking over the lake lock of a run that is gone");
                let path = self.path(LOCK_PATH);
                match self.store().delete(&path).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(self.classify("removing a stale lock", &path, e)),
                }
            }
            _ => Ok(()),
        }
    }
}

fn hex_digest(bytes: &[u8]) -> String {
    // A short, stable name for an unreadable lease (FNV-1a; not for security).
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

async fn renew_loop(
    lake: Lake,
    holder: Arc<Mutex<(LockHolder, Option<String>)>>,
    lost: Arc<AtomicBool>,
    ttl: Duration,
) {
    let every = (ttl / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = renew(&lake, &holder, &lost, ttl).await {
            // A failed renewal is retried on the next tick; the lease still has time.
            tracing::warn!(error = %e, "renewing the lake lock failed");
        }
        if lost.load(Ordering::SeqCst) {
            return;
        }
    }
}

async fn renew(
    lake: &Lake,
    holder: &Mutex<(LockHolder, Option<String>)>,
    lost: &AtomicBool,
    ttl: Duration,
) -> Result<()> {
    let mut guard = holder.lock().await;
    let (mine, etag) = &mut *guard;
    let mut next = mine.clone();
    next.expires_at =
        Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(2));
    let body = serde_json::to_vec_pretty(&next).map_err(|source| Error::Json {
        path: LOCK_PATH.into(),
        source,
    })?;
    let path = lake.path(LOCK_PATH);
    if let Some(tag) = etag.clone() {
        let opts = PutOptions {
            mode: PutMode::Update(UpdateVersion {
                e_tag: Some(tag),
                version: None,
            }),
            ..Default::default()
        };
        match lake
            .store()
            .put_opts(&path, body.clone().into(), opts)
            .await
        {
            Ok(r) => {
                *mine = next;
                *etag = r.e_tag;
                return Ok(());
            }
            Err(
                object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. },
            ) => {
                lost.store(true, Ordering::SeqCst);
                tracing::error!("the lake lock was taken over by another run");
                return Ok(());
            }
            Err(object_store::Error::NotImplemented { .. }) => {} // a local folder: below
            Err(e) => return Err(lake.classify("renewing the lock", &path, e)),
        }
    }
    // No conditional update here: rewrite only while the lease still names us.
    match lake.read_lease().await? {
        Some((current, _)) if current.lease_id == mine.lease_id => {
            lake.put_bytes(LOCK_PATH, body).await?;
            *mine = next;
            *etag = None;
            Ok(())
        }
        _ => {
            lost.store(true, Ordering::SeqCst);
            tracing::error!("the lake lock was taken over by another run");
            Ok(())
        }
    }
}

impl LakeLock {
    /// Fail unless this run still holds the lake (call before publishing).
    pub async fn ensure_held(&self) -> Result<()> {
        if self.lost.load(Ordering::SeqCst) {
            let holder = self.lake.lock_holder().await?;
            return Err(Error::LockLost {
                url: self.lake.url().to_string(),
                holder: holder
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "nobody".into()),
            });
        }
        // A renewal that has not run yet cannot have noticed: look now.
        let mine = self.holder.lock().await.0.lease_id.clone();
        match self.lake.lock_holder().await? {
            Some(h) if h.lease_id == mine => Ok(()),
            other => {
                self.lost.store(true, Ordering::SeqCst);
                Err(Error::LockLost {
                    url: self.lake.url().to_string(),
                    holder: other
                        .map(|h| h.to_string())
                        .unwrap_or_else(|| "nobody".into()),
                })
            }
        }
    }

    /// Who holds it (this run).
    pub async fn holder(&self) -> LockHolder {
        self.holder.lock().await.0.clone()
    }

    /// Stop renewing and delete the lease (only if it is still ours).
    pub async fn release(mut self) -> Result<()> {
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        let mine = self.holder.lock().await.0.lease_id.clone();
        if let Some(h) = self.lake.lock_holder().await?
            && h.lease_id == mine
        {
            let path = self.lake.path(LOCK_PATH);
            match self.lake.store().delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.lake.classify("releasing the lock", &path, e)),
            }
        }
        Ok(())
    }
}

impl Drop for LakeLock {
    fn drop(&mut self) {
        // Dropped without release (an error path): stop renewing; the lease lapses, and on
        // this host it is freed at once since our process ends.
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> LockOptions {
        LockOptions {
            ttl: Duration::from_millis(600),
            wait: Duration::ZERO,
            poll: Duration::from_millis(50),
        }
    }

    async fn exercise(lake: Lake) {
        let a = lake.lock("run-a", "build", &quick()).await.unwrap();
        // A second run is refused, and the error names the holder.
        let err = lake.lock("run-b", "build", &quick()).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Locked { .. }), "{msg}");
        assert!(msg.contains("run-a") && msg.contains("build"), "{msg}");
        // The holder renews past its ttl and still holds it.
        tokio::time::sleep(Duration::from_millis(1300)).await;
        a.ensure_held().await.unwrap();
        assert!(lake.lock("run-b", "build", &quick()).await.is_err());
        // Waiting: b gets the lake once a releases it.
        let waiter = {
            let lake = lake.clone();
            tokio::spawn(async move {
                let opts = LockOptions {
                    wait: Duration::from_secs(10),
                    ..quick()
                };
                lake.lock("run-b", "build", &opts).await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.release().await.unwrap();
        let b = waiter.await.unwrap().unwrap();
        assert_eq!(lake.lock_holder().await.unwrap().unwrap().run_id, "run-b");
        b.release().await.unwrap();
        assert!(lake.lock_holder().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn one_holder_at_a_time_on_memory() {
        exercise(Lake::open("memory://").unwrap()).await;
    }

    #[tokio::test]
    async fn one_holder_at_a_time_on_a_local_folder() {
        let dir = tempfile::tempdir().unwrap();
        exercise(Lake::open(dir.path().to_str().unwrap()).unwrap()).await;
    }

    async fn plant(lake: &Lake, holder: &LockHolder) {
        lake.put_json(LOCK_PATH, holder).await.unwrap();
    }

    fn dead(host: &str, pid: u32, expires_in: chrono::Duration) -> LockHolder {
        LockHolder {
            lease_id: format!("dead-{pid}-{}", expires_in.num_seconds()),
            run_id: "crashed".into(),
            command: "build".into(),
            host: host.into(),
            pid,
            started_at: Utc::now(),
            expires_at: Utc::now() + expires_in,
        }
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over() {
        let lake = Lake::open("memory://").unwrap();
        plant(&lake, &dead("elsewhere", 1, chrono::Duration::seconds(-5))).await;
        let l = lake.lock("next", "build", &quick()).await.unwrap();
        assert_eq!(l.holder().await.run_id, "next");
        l.release().await.unwrap();
    }

    #[tokio::test]
    async fn a_live_lease_on_another_host_is_respected_until_it_expires() {
        let lake = Lake::open("memory://").unwrap();
        plant(&lake, &dead("elsewhere", 1, chrono::Duration::seconds(60))).await;
        let err = lake.lock("next", "build", &quick()).await.unwrap_err();
        assert!(err.to_string().contains("crashed"), "{err}");
    }

    #[tokio::test]
    async fn a_dead_process_on_this_host_frees_the_lease_at_once() {
        let lake = Lake::open("memory://").unwrap();
        // A pid that cannot exist (above the kernel's pid_max of 2^22).
        plant(
            &lake,
            &dead(&host_name(), 4_194_400, chrono::Duration::seconds(600)),
        )
        .await;
        let l = lake.lock("next", "build", &quick()).await.unwrap();
        l.release().await.unwrap();
    }

    #[tokio::test]
    async fn racing_takeovers_leave_exactly_one_holder() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        plant(&lake, &dead("elsewhere", 1, chrono::Duration::seconds(-5))).await;
        let mut tasks = Vec::new();
        for i in 0..6 {
            let lake = lake.clone();
            tasks.push(tokio::spawn(async move {
                lake.lock(&format!("r{i}"), "build", &quick()).await
            }));
        }
        let mut held = Vec::new();
        for t in tasks {
            if let Ok(l) = t.await.unwrap() {
                held.push(l);
            }
        }
        assert_eq!(held.len(), 1, "exactly one run wins the dead lake");
        held[0].ensure_held().await.unwrap();
    }

    #[tokio::test]
    async fn a_holder_whose_lease_was_taken_cannot_publish() {
        let lake = Lake::open("memory://").unwrap();
        let a = lake.lock("run-a", "build", &quick()).await.unwrap();
        // Someone removed a's lease and took the lake (as if a had been paused past expiry).
        lake.store().delete(&lake.path(LOCK_PATH)).await.unwrap();
        let b = lake.lock("run-b", "build", &quick()).await.unwrap();
        let err = a.ensure_held().await.unwrap_err();
        assert!(err.to_string().contains("run-b"), "{err}");
        b.release().await.unwrap();
    }
}
