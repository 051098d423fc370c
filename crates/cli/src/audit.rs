//! What every run manifest records about the configuration: its hash and the configuration
//! itself with anything secret-looking redacted (tokens live in the environment, but a value
//! under a key such as `token` or `password` is never written, whatever its origin).

use flowlake_lake::RunManifest;

use crate::config::Config;

/// Put the config's hash and redacted content into `manifest`.
pub fn stamp(manifest: &mut RunManifest, cfg: &Config) {
    manifest.config_hash = Some(cfg.hash());
    manifest.config = serde_json::to_value(cfg).ok().map(redact);
}

/// Whether a config key names a secret value (not the name of a variable or file holding one).
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let names_a_place = ["_env", "_file", "_path"].iter().any(|s| k.ends_with(s));
    !names_a_place
        && [
            "token",
            "secret",
            "password",
            "private_key",
            "api_key",
            "webhook_url",
        ]
        .iter()
        .any(|s| k.contains(s))
}

/// `value` with every secret-looking entry replaced by `"<redacted>"`.
pub fn redact(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if is_secret_key(&k) && !v.is_null() {
                        (k, Value::String("<redacted>".into()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_redacted_and_variable_names_kept() {
        let v = serde_json::json!({
            "github": {"token_env": "GITHUB_TOKEN", "token": "ghp_x", "org": "acme"},
            "jira": {"api_token_file": "/run/secrets/jira", "password": "hunter2"},
            "list": [{"client_secret": "s"}],
        });
        let r = redact(v);
        let text = r.to_string();
        assert!(
            !text.contains("ghp_x") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(!text.contains("\"s\""), "{text}");
        assert_eq!(r["github"]["token_env"], "GITHUB_TOKEN");
        assert_eq!(r["github"]["org"], "acme");
        assert_eq!(r["jira"]["api_token_file"], "/run/secrets/jira");
        assert_eq!(r["github"]["token"], "<redacted>");
    }
}
