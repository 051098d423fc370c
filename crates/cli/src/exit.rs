//! Exit codes: what a scheduler can act on without reading the message.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | internal error (a bug, or an error nobody classified) |
//! | 2 | usage or configuration error: nothing ran; fix the command line or the config |
//! | 3 | a source failed (auth, permission, unreachable, rate limit that outlasted the wait); in a pipeline the other sources still landed and the marts were built from what is there |
//! | 4 | the lake is locked by another run (or this run lost its lock) |
//! | 5 | the lake itself failed: unreachable, write refused, out of space |
//!
//! [`classify`] reads the error chain: typed errors of the lake, the connectors and the
//! markers below decide, most specific first (a lock beats a lake failure beats a source
//! failure beats a usage error).

use flowlake_lake::Error as LakeError;

/// A documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// 0
    Success = 0,
    /// 1
    Internal = 1,
    /// 2
    Usage = 2,
    /// 3
    Source = 3,
    /// 4
    Locked = 4,
    /// 5
    Lake = 5,
}

/// The exit-code table, for `--help` and the docs.
pub const HELP: &str = "Exit codes: 0 success; 1 internal error; 2 usage or configuration error \
(nothing ran); 3 a source failed (auth, permission, unreachable, rate limit) while the other \
sources landed and the marts were built; 4 the lake is locked by another run; 5 the lake failed \
(unreachable, write refused, out of space). See docs/operations.md.";

/// [`HELP`] for a binary built without the `demo` feature.
#[cfg(not(feature = "demo"))]
pub const HELP_WITHOUT_DEMO: &str = "This flowlake was built without the `demo` feature: it has \
no simulator, so no `sim` command, and `demo` and `bench` only say how to get them: \
`cargo build -p flowlake-cli --features demo`.\n\nExit codes: 0 success; 1 internal error; 2 \
usage or configuration error (nothing ran); 3 a source failed (auth, permission, unreachable, \
rate limit) while the other sources landed and the marts were built; 4 the lake is locked by \
another run; 5 the lake failed (unreachable, write refused, out of space). See \
docs/operations.md.";

/// A usage or configuration error (exit 2): prints as the error it wraps.
#[derive(Debug)]
pub struct Usage(pub anyhow::Error);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Usage {}

/// Mark an error as a usage or configuration error.
pub fn usage(e: anyhow::Error) -> anyhow::Error {
    if e.chain().any(|c| c.is::<Usage>()) {
        e
    } else {
        anyhow::Error::new(Usage(e))
    }
}

/// Sources that failed while the rest of a pipeline went on (exit 3).
#[derive(Debug)]
pub struct SourcesFailed {
    /// `(step, error chain)` per failed source.
    pub failed: Vec<(String, String)>,
}

impl std::fmt::Display for SourcesFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.failed.iter().map(|(s, _)| s.as_str()).collect();
        write!(
            f,
            "{} failed; the other steps ran and the marts were built from what landed",
            names.join(", ")
        )?;
        for (step, err) in &self.failed {
            write!(f, "\n  {step}: {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourcesFailed {}

fn lake_code(e: &LakeError) -> Code {
    match e {
        LakeError::Locked { .. } | LakeError::LockLost { .. } => Code::Locked,
        LakeError::UnknownScheme { .. }
        | LakeError::BadUrl { .. }
        | LakeError::Configure { .. } => Code::Usage,
        LakeError::Store { .. }
        | LakeError::Unreachable { .. }
        | LakeError::Parquet { .. }
        | LakeError::Json { .. }
        | LakeError::Mismatch { .. } => Code::Lake,
    }
}

fn github_code(e: &flowlake_github::Error) -> Code {
    use flowlake_github::Error as E;
    match e {
        E::Lake(l) => lake_code(l),
        E::Config { .. } => Code::Usage,
        _ => Code::Source,
    }
}

fn jira_code(e: &flowlake_jira::Error) -> Code {
    use flowlake_jira::Error as E;
    match e {
        E::Lake(l) => lake_code(l),
        E::Config { .. } | E::UnknownProject { .. } => Code::Usage,
        // Jira answers 400 to a request it cannot parse: in practice the configured JQL
        // (`[jira] incident_jql`), which only the config can fix.
        E::Status { status: 400, .. } => Code::Usage,
        _ => Code::Source,
    }
}

/// Out of space, refused or unreachable at the OS level: the lake's storage, when it shows up
/// in a lake operation's chain.
fn io_code(e: &std::io::Error) -> Option<Code> {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::StorageFull | K::QuotaExceeded | K::ReadOnlyFilesystem | K::PermissionDenied
    )
    .then_some(Code::Lake)
}

/// The exit code for `err`.
pub fn classify(err: &anyhow::Error) -> Code {
    let mut best: Option<Code> = None;
    let mut take = |c: Code| {
        // Locked > Lake > Source > Usage > Internal.
        let rank = |c: Code| match c {
            Code::Locked => 5,
            Code::Lake => 4,
            Code::Source => 3,
            Code::Usage => 2,
            Code::Internal => 1,
            Code::Success => 0,
        };
        if best.is_none_or(|b| rank(c) > rank(b)) {
            best = Some(c);
        }
    };
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<LakeError>() {
            take(lake_code(e));
        } else if let Some(e) = cause.downcast_ref::<flowlake_github::Error>() {
            take(github_code(e));
        } else if let Some(e) = cause.downcast_ref::<flowlake_jira::Error>() {
            take(jira_code(e));
        } else if cause.is::<Usage>() || cause.is::<crate::cmd::LeftOut>() {
            take(Code::Usage);
        } else if cause.is::<SourcesFailed>() {
            take(Code::Source);
        } else if cause.is::<object_store::Error>() {
            take(Code::Lake);
        } else if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && let Some(c) = io_code(io)
        {
            take(c);
        }
    }
    best.unwrap_or(Code::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_chain() {
        let usage_err = usage(anyhow::anyhow!("pipeline x: unknown key"));
        assert_eq!(classify(&usage_err), Code::Usage);
        assert_eq!(usage_err.to_string(), "pipeline x: unknown key");
        assert_eq!(classify(&anyhow::anyhow!("boom")), Code::Internal);
        let full = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull))
            .context("writing marts");
        assert_eq!(classify(&full), Code::Lake);
        let src = anyhow::Error::new(SourcesFailed {
            failed: vec![("ingest-github".into(), "401".into())],
        });
        assert_eq!(classify(&src), Code::Source);
        let lake = flowlake_lake::Lake::open("nope://x").unwrap_err();
        assert_eq!(classify(&anyhow::Error::new(lake)), Code::Usage);
        let gh = flowlake_github::Error::Auth {
            endpoint: "/graphql".into(),
        };
        assert_eq!(
            classify(&anyhow::Error::new(gh).context("ingest")),
            Code::Source
        );
    }
}
