use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectMeta, ObjectStore, ObjectStoreExt, RetryConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};

/// Settings that shape how a lake URL is opened. S3 settings use object_store's names
/// (`endpoint`, `region`, `allow_http`, `access_key_id`, …) and win over the `AWS_*` variables.
#[derive(Debug, Clone, Default)]
pub struct LakeOptions {
    /// Extra S3 settings, e.g. from `[lake.s3]` in `flowlake.toml`.
    pub s3: BTreeMap<String, String>,
}

/// An opened lake: an object store plus the prefix the lake lives under.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    url: Url,
    store_url: Url,
}

fn bad(url: &str, reason: impl Into<String>) -> Error {
    Error::BadUrl {
        url: url.to_string(),
        reason: reason.into(),
    }
}

impl Lake {
    /// Open a lake with the `AWS_*` variables as the only S3 settings.
    pub fn open(url: &str) -> Result<Lake> {
        Lake::open_with(url, &LakeOptions::default())
    }

    /// Open `url`: a folder path (created on first write), `file:///abs/path`,
    /// `s3://bucket/prefix` or `memory://`.
    pub fn open_with(url: &str, options: &LakeOptions) -> Result<Lake> {
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(bad(
                url,
                "empty; give a folder such as ./lake or s3://bucket/prefix",
            ));
        }
        let scheme = match trimmed.find("://") {
            Some(i) => trimmed[..i].to_ascii_lowercase(),
            None => String::new(),
        };
        match scheme.as_str() {
            "" => Lake::local(url, std::path::Path::new(trimmed)),
            "file" => {
                let parsed = Url::parse(trimmed).map_err(|e| bad(url, e.to_string()))?;
                let path = parsed
                    .to_file_path()
                    .map_err(|_| bad(url, "a file:// URL needs an absolute path"))?;
                Lake::local(url, &path)
            }
            "memory" => {
                let prefix = trimmed["memory://".len()..].trim_matches('/');
                Ok(Lake {
                    store: Arc::new(InMemory::new()),
                    prefix: Path::from(prefix),
                    url: Url::parse(&format!("memory:///{prefix}"))
                        .map(with_slash)
                        .map_err(|e| bad(url, e.to_string()))?,
                    store_url: Url::parse("memory:///").expect("static URL"),
                })
            }
            "s3" | "s3a" => Lake::s3(url, trimmed, options),
            _ => Err(Error::UnknownScheme {
                url: url.to_string(),
                scheme,
            }),
        }
    }

    fn local(url: &str, path: &std::path::Path) -> Result<Lake> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| bad(url, format!("cannot resolve the current directory: {e}")))?
                .join(path)
        };
        let abs = normalize(&abs);
        if abs.exists() && !abs.is_dir() {
            return Err(bad(
                url,
                "exists and is not a folder; give a folder for the lake",
            ));
        }
        let lake_url = Url::from_directory_path(&abs)
            .map_err(|_| bad(url, "cannot turn the path into a file:// URL"))?;
        let prefix = Path::from_url_path(lake_url.path()).map_err(|e| bad(url, e.to_string()))?;
        Ok(Lake {
            store: Arc::new(LocalFileSystem::new()),
            prefix,
            url: lake_url,
            store_url: Url::parse("file:///").expect("static URL"),
        })
    }

    fn s3(url: &str, trimmed: &str, options: &LakeOptions) -> Result<Lake> {
        let parsed = Url::parse(trimmed).map_err(|e| bad(url, e.to_string()))?;
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| bad(url, "no bucket; write s3://bucket/prefix"))?
            .to_string();
        let prefix = parsed.path().trim_matches('/').to_string();
        // Client options first: `with_client_options` replaces them whole, and `allow_http`
        // (AWS_ALLOW_HTTP) lives there, so the variables and settings are applied after it.
        // Fail fast instead of object_store's default of ten retries over three minutes:
        // a batch job pointed at a dead endpoint should say so within seconds.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
            ..Default::default()
        };
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(120));
        let mut builder = AmazonS3Builder::new()
            .with_client_options(client)
            .with_retry(retry);
        for (key, value) in std::env::vars() {
            if key.starts_with("AWS_")
                && let Ok(k) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
            {
                builder = builder.with_config(k, value);
            }
        }
        builder = builder.with_bucket_name(&bucket);
        for (key, value) in &options.s3 {
            let key: AmazonS3ConfigKey = key.to_ascii_lowercase().parse().map_err(|_| {
                bad(
                    url,
                    format!("unknown S3 setting `{key}` in [lake.s3]; use endpoint, region, allow_http, access_key_id, secret_access_key, …"),
                )
            })?;
            builder = builder.with_config(key, value);
        }
        let store = builder.build().map_err(|source| Error::Configure {
            url: url.to_string(),
            source,
        })?;
        Ok(Lake {
            store: Arc::new(store),
            prefix: Path::from(prefix.as_str()),
            url: Url::parse(&format!("s3://{bucket}/{prefix}"))
                .map(with_slash)
                .map_err(|e| bad(url, e.to_string()))?,
            store_url: Url::parse(&format!("s3://{bucket}"))
                .map_err(|e| bad(url, e.to_string()))?,
        })
    }

    /// The same lake seen through another store: `wrap` gets this lake's store and returns
    /// the one to use (a fault-injecting or metering wrapper). URLs and prefix stay the same.
    pub fn wrap_store(
        &self,
        wrap: impl FnOnce(Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore>,
    ) -> Lake {
        Lake {
            store: wrap(self.store.clone()),
            prefix: self.prefix.clone(),
            url: self.url.clone(),
            store_url: self.store_url.clone(),
        }
    }

    /// The lake's root URL, ending with `/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL to register the store under in DataFusion (`file:///`, `s3://bucket`, `memory:///`).
    pub fn store_url(&self) -> Url {
        self.store_url.clone()
    }

    /// The object store; its paths are relative to [`Lake::store_url`].
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The store path of `rel` under the lake root.
    pub fn path(&self, rel: &str) -> Path {
        let mut p = self.prefix.clone();
        for part in rel.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(part);
        }
        p
    }

    /// The full URL of a folder under the lake, ending with `/`.
    pub fn table_url(&self, rel: &str) -> String {
        let rel = rel.trim_matches('/');
        format!("{}{rel}/", self.url)
    }

    /// Check the store answers (one LIST of the root); the error says how to fix the endpoint.
    pub async fn check(&self) -> Result<()> {
        let mut stream = self.store.list(Some(&self.prefix));
        match stream.try_next().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.classify("listing", &self.prefix, e)),
        }
    }

    /// Turn a store error into the lake's: [`Error::Unreachable`] (with how to fix the
    /// endpoint) when an S3 store never answered, [`Error::Store`] otherwise.
    pub(crate) fn classify(&self, op: &'static str, path: &Path, e: object_store::Error) -> Error {
        // A folder or memory lake has no endpoint to fix.
        if self.url.scheme() == "s3" && never_answered(&e) {
            return Error::Unreachable {
                url: self.url.to_string(),
                detail: first_sentence(&format!("{e:#}")),
            };
        }
        Error::Store {
            op,
            path: path.to_string(),
            url: self.url.to_string(),
            source: e,
        }
    }

    /// Write `bytes` to `rel` as one whole object.
    pub async fn put_bytes(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.path(rel);
        self.store
            .put(&path, bytes.into())
            .await
            .map_err(|e| self.classify("writing", &path, e))?;
        Ok(())
    }

    /// Read `rel`, or `None` when it does not exist.
    pub async fn get_bytes(&self, rel: &str) -> Result<Option<bytes::Bytes>> {
        let path = self.path(rel);
        match self.store.get(&path).await {
            Ok(r) => Ok(Some(
                r.bytes()
                    .await
                    .map_err(|e| self.classify("reading", &path, e))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.classify("reading", &path, e)),
        }
    }

    /// Write a JSON document whole.
    pub async fn put_json<T: Serialize>(&self, rel: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
            path: rel.to_string(),
            source,
        })?;
        self.put_bytes(rel, bytes).await
    }

    /// Write a JSON document that must not exist yet (create-if-absent): fails with
    /// [`Error::Store`] (`AlreadyExists`) rather than replace it.
    pub async fn put_json_new<T: Serialize>(&self, rel: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
            path: rel.to_string(),
            source,
        })?;
        let path = self.path(rel);
        let opts = object_store::PutOptions {
            mode: object_store::PutMode::Create,
            ..Default::default()
        };
        self.store
            .put_opts(&path, bytes.into(), opts)
            .await
            .map_err(|e| self.classify("writing", &path, e))?;
        Ok(())
    }

    /// Read a JSON document, or `None` when it does not exist.
    pub async fn get_json<T: DeserializeOwned>(&self, rel: &str) -> Result<Option<T>> {
        match self.get_bytes(rel).await? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|source| Error::Json {
                    path: rel.to_string(),
                    source,
                }),
        }
    }

    /// Every object under the folder `rel`, sorted by path.
    pub async fn list(&self, rel: &str) -> Result<Vec<ObjectMeta>> {
        let path = self.path(rel);
        let mut out: Vec<ObjectMeta> = match self.store.list(Some(&path)).try_collect().await {
            Ok(v) => v,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(self.classify("listing", &path, e)),
        };
        out.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(out)
    }

    /// Whether any object lives under the folder `rel`.
    pub async fn exists_prefix(&self, rel: &str) -> Result<bool> {
        let path = self.path(rel);
        let mut stream = self.store.list(Some(&path));
        match stream.try_next().await {
            Ok(x) => Ok(x.is_some()),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.classify("listing", &path, e)),
        }
    }

    /// The path of `meta` relative to the lake root.
    pub fn relative(&self, location: &Path) -> String {
        let full = location.as_ref();
        let prefix = self.prefix.as_ref();
        full.strip_prefix(prefix)
            .unwrap_or(full)
            .trim_start_matches('/')
            .to_string()
    }
}

fn with_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url
}

/// Whether the store never answered: the connection failed (refused, no route, DNS) or timed
/// out. Decided by the error's kind, never by its text: the text names the bucket and the
/// path, and a bucket called `dns-metrics` once made every error "unreachable".
fn never_answered(e: &object_store::Error) -> bool {
    use object_store::Error as E;
    match e {
        // The store answered: object_store turns statuses into these (404 NotFound,
        // 403 PermissionDenied, 401 Unauthenticated, 409 AlreadyExists, 412 Precondition,
        // 304 NotModified), and the rest are decided before any request.
        E::NotFound { .. }
        | E::PermissionDenied { .. }
        | E::Unauthenticated { .. }
        | E::AlreadyExists { .. }
        | E::Precondition { .. }
        | E::NotModified { .. }
        | E::NotSupported { .. }
        | E::NotImplemented { .. }
        | E::InvalidPath { .. }
        | E::UnknownConfigurationKey { .. } => false,
        // Everything else, transport failures included, arrives as Generic: an S3 request's
        // cause chain runs RetryError → RequestError → HttpError → reqwest → hyper → io::Error.
        E::Generic { source, .. } => causes(source.as_ref()).any(is_no_answer),
        // A panicked task, and variants later versions add.
        _ => false,
    }
}

/// `e` and its sources, outermost first.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

fn is_no_answer(e: &(dyn std::error::Error + 'static)) -> bool {
    use object_store::client::{HttpError, HttpErrorKind};
    use std::io::ErrorKind;
    if let Some(http) = e.downcast_ref::<HttpError>() {
        // object_store sorts reqwest's errors into these: `Connect` covers refused
        // connections and failed DNS lookups. `Request` and `Interrupted` (a dropped
        // connection) and `Decode` mean the store was reached.
        return matches!(http.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout);
    }
    e.downcast_ref::<std::io::Error>().is_some_and(|io| {
        matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::TimedOut
                | ErrorKind::NotConnected
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::AddrNotAvailable
        )
    })
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    line.chars().take(300).collect()
}

fn normalize(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise() {
        let l = Lake::open("/tmp/x/../lake").unwrap();
        assert_eq!(l.url().as_str(), "file:///tmp/lake/");
        assert_eq!(
            l.table_url("raw/github/pull_requests"),
            "file:///tmp/lake/raw/github/pull_requests/"
        );
        assert_eq!(l.path("raw/a").as_ref(), "tmp/lake/raw/a");
        let l = Lake::open("file:///tmp/lake2").unwrap();
        assert_eq!(l.url().as_str(), "file:///tmp/lake2/");
        let m = Lake::open("memory://").unwrap();
        assert_eq!(m.url().as_str(), "memory:///");
        assert_eq!(m.path("state/x.json").as_ref(), "state/x.json");
    }

    #[test]
    fn s3_url_needs_no_network_to_open() {
        let l = Lake::open_with(
            "s3://bucket/pre/fix",
            &LakeOptions {
                s3: [("region".to_string(), "us-east-1".to_string())].into(),
            },
        )
        .unwrap();
        assert_eq!(l.url().as_str(), "s3://bucket/pre/fix/");
        assert_eq!(l.store_url().as_str(), "s3://bucket");
        assert_eq!(l.path("raw").as_ref(), "pre/fix/raw");
    }

    fn s3_lake(bucket: &str, endpoint: &str) -> Lake {
        let settings = [
            ("endpoint", endpoint),
            ("allow_http", "true"),
            ("region", "us-east-1"),
            ("access_key_id", "k"),
            ("secret_access_key", "s"),
        ];
        Lake::open_with(
            &format!("s3://{bucket}/lake"),
            &LakeOptions {
                s3: settings.map(|(k, v)| (k.to_string(), v.to_string())).into(),
            },
        )
        .unwrap()
    }

    fn generic(source: impl std::error::Error + Send + Sync + 'static) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: Box::new(source),
        }
    }

    fn is_unreachable(lake: &Lake, e: object_store::Error) -> bool {
        let path = lake.path("raw/x");
        match lake.classify("reading", &path, e) {
            Error::Unreachable { .. } => true,
            Error::Store { .. } => false,
            other => panic!("classify gave {other:?}"),
        }
    }

    /// A one-request-at-a-time HTTP server on loopback that answers every request with
    /// `status` and an S3 error document; returns its URL.
    fn answering_server(status: &'static str, body: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    // Regression: `classify` searched the error's text for words ("dns", "connect", "tcp",
    // "timeout", …), and the text names the bucket, so a bucket named `dns-metrics` turned
    // every store error, an access denied included, into "lake unreachable".
    #[test]
    fn dns_in_a_bucket_name_or_message_is_not_unreachable() {
        let lake = s3_lake("dns-metrics", "http://127.0.0.1:9");
        let denied = object_store::Error::PermissionDenied {
            path: "lake/raw/x".into(),
            source: "Access Denied for bucket dns-metrics".into(),
        };
        assert!(!is_unreachable(&lake, denied));
        let words = "dns lookup: connection timed out (tcp timeout, error sending request)";
        assert!(!is_unreachable(
            &lake,
            generic(std::io::Error::other(words))
        ));
        let not_found = object_store::Error::NotFound {
            path: "dns-metrics/lake".into(),
            source: "NoSuchBucket: dns-metrics".into(),
        };
        assert!(!is_unreachable(&lake, not_found));
    }

    // The same bug over the wire: a real S3 answer (403 from a loopback server) for the bucket
    // `dns-metrics` is a store error that keeps its cause, not "unreachable". (object_store
    // reports a failed LIST as Generic, not PermissionDenied, so only the kinds in its cause
    // chain can tell the two apart.)
    #[tokio::test]
    async fn a_real_access_denied_for_bucket_dns_metrics_is_a_store_error() {
        let endpoint = answering_server(
            "403 Forbidden",
            "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>\
             <Message>Access Denied</Message><BucketName>dns-metrics</BucketName></Error>",
        );
        let lake = s3_lake("dns-metrics", &endpoint);
        let e = lake.check().await.unwrap_err();
        assert!(matches!(e, Error::Store { .. }), "{e:?}");
        let chain: Vec<String> = causes(&e).map(|c| c.to_string()).collect();
        let chain = chain.join(": ");
        assert!(
            chain.contains("403") && chain.contains("dns-metrics"),
            "{chain}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        // Bind, note the port, close: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let lake = s3_lake("dns-metrics", &format!("http://127.0.0.1:{port}"));
        let e = lake.check().await.unwrap_err();
        assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().contains("AWS_ENDPOINT"), "{e}");
    }

    #[test]
    fn unreachable_is_decided_by_the_error_kinds() {
        use object_store::client::{HttpError, HttpErrorKind};
        use std::io::{Error as IoError, ErrorKind};
        let lake = s3_lake("bucket", "http://127.0.0.1:9");
        let refused = || IoError::from(ErrorKind::ConnectionRefused);
        assert!(is_unreachable(
            &lake,
            generic(HttpError::new(HttpErrorKind::Connect, refused()))
        ));
        assert!(is_unreachable(
            &lake,
            generic(HttpError::new(
                HttpErrorKind::Timeout,
                IoError::other("slow")
            ))
        ));
        assert!(is_unreachable(
            &lake,
            generic(IoError::from(ErrorKind::TimedOut))
        ));
        // Reached, then failed: a bad body, a dropped connection, a full disk.
        assert!(!is_unreachable(
            &lake,
            generic(HttpError::new(HttpErrorKind::Decode, IoError::other("xml")))
        ));
        assert!(!is_unreachable(
            &lake,
            generic(HttpError::new(
                HttpErrorKind::Interrupted,
                IoError::from(ErrorKind::ConnectionReset)
            ))
        ));
        assert!(!is_unreachable(
            &lake,
            generic(IoError::from(ErrorKind::StorageFull))
        ));
        // A folder lake has no endpoint to check, whatever the cause.
        let folder = Lake::open("memory://").unwrap();
        assert!(!is_unreachable(&folder, generic(refused())));
    }

    #[test]
    fn unknown_scheme_and_bad_settings_say_what_to_do() {
        let e = Lake::open("ftp://host/x").unwrap_err().to_string();
        assert!(
            e.contains("unknown scheme `ftp`") && e.contains("s3://bucket/prefix"),
            "{e}"
        );
        let e = Lake::open("s3:///nobucket").unwrap_err().to_string();
        assert!(e.contains("no bucket"), "{e}");
        let e = Lake::open_with(
            "s3://b/p",
            &LakeOptions {
                s3: [("endpiont".to_string(), "x".to_string())].into(),
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown S3 setting `endpiont`"), "{e}");
    }
}
