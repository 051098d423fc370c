//! Embeds the repository's `sql/` models into the library so an installed `flowlake` binary
//! works from any directory. A runtime `--sql-dir` still wins (see `Models::from_dir`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            let rel = path
                .strip_prefix(root)
                .expect("walked under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let sql_dir = manifest.join("../../sql");
    println!("cargo:rerun-if-changed={}", sql_dir.display());
    let mut files = Vec::new();
    collect(&sql_dir, &sql_dir, &mut files);
    files.sort();
    let mut code =
        String::from("/// `(path under sql/, contents)` of every model, sorted by path.\n");
    code.push_str("pub(crate) static EMBEDDED_SQL: &[(&str, &str)] = &[\n");
    for (rel, path) in &files {
        // Directories are watched too, so a new file triggers a rebuild.
        if let Some(parent) = path.parent() {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let abs = path.canonicalize().expect("listed file exists");
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("embedded_sql.rs");
    std::fs::write(out, code).expect("write embedded_sql.rs");
}
