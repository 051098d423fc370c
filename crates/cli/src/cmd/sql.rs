//! `flowlake sql`: SQL over every raw, staging, intermediate and mart table.

use std::io::{BufRead, Write};

use anyhow::{Context, Result};
use arrow::record_batch::RecordBatch;
use clap::ValueEnum;
use datafusion::prelude::SessionContext;
use flowlake_lake::Lake;

use crate::config::Config;
use crate::plan;

/// The read-only query `sql/queries/<name>.sql` (embedded in the binary).
pub fn query(name: &str) -> Result<&'static str> {
    flowlake_marts::query(name)
        .ok_or_else(|| anyhow::anyhow!("sql/queries/{name}.sql is not in this build"))
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// An aligned table.
    Table,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// `flowlake sql` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lake URL: folder, file://, s3://bucket/prefix or memory://.
    #[arg(long)]
    lake: Option<String>,
    /// Run this SQL and exit (without it: an interactive shell reading statements ending in `;`).
    #[arg(short = 'e', long = "execute")]
    execute: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// A query session over every table of a lake.
pub struct Session(SessionContext);

impl Session {
    /// Register every table of `lake`.
    pub async fn open(lake: &Lake) -> Result<Session> {
        let ctx = flowlake_marts::session_for_query(lake).await?;
        Ok(Session(ctx))
    }

    /// Run one statement when `table` exists; no batches otherwise (a lake built by a binary
    /// without that model).
    #[cfg(feature = "demo")]
    pub async fn run_if_exists(&self, table: &str, sql: &str) -> Result<Vec<RecordBatch>> {
        if self.0.table_exist(table)? {
            self.run(sql).await
        } else {
            Ok(Vec::new())
        }
    }

    /// Run one statement.
    pub async fn run(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let df = self
            .0
            .sql(sql)
            .await
            .with_context(|| format!("planning `{}`", one_line(sql)))?;
        df.collect()
            .await
            .with_context(|| format!("running `{}`", one_line(sql)))
    }

    /// Table names, sorted.
    pub fn tables(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Some(catalog) = self.0.catalog("datafusion")
            && let Some(schema) = catalog.schema("public")
        {
            names = schema.table_names();
        }
        names.sort();
        names
    }
}

fn one_line(sql: &str) -> String {
    let s: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(80).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Run `flowlake sql`.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.lake.as_deref(), cfg)?;
    lake.check().await?;
    let session = Session::open(&lake)
        .await
        .context("opening the lake for SQL")?;
    match &args.execute {
        Some(sql) => {
            let batches = session.run(sql).await?;
            print(&batches, args.format)
        }
        None => repl(&session, args.format).await,
    }
}

async fn repl(session: &Session, format: Format) -> Result<()> {
    let stdin = std::io::stdin();
    let mut buf = String::new();
    eprintln!("flowlake sql: statements end with `;`, \\d lists tables, \\q quits");
    prompt(&buf)?;
    for line in stdin.lock().lines() {
        let line = line?;
        let t = line.trim();
        if buf.is_empty() && (t == "\\q" || t == "quit" || t == "exit") {
            break;
        }
        if buf.is_empty() && t == "\\d" {
            for name in session.tables() {
                println!("{name}");
            }
            prompt(&buf)?;
            continue;
        }
        buf.push_str(&line);
        buf.push('\n');
        if t.ends_with(';') {
            let sql = std::mem::take(&mut buf);
            match session.run(sql.trim().trim_end_matches(';')).await {
                Ok(b) => print(&b, format)?,
                Err(e) => eprintln!("error: {e:#}"),
            }
        }
        prompt(&buf)?;
    }
    Ok(())
}

fn prompt(buf: &str) -> Result<()> {
    let mut err = std::io::stderr();
    write!(
        err,
        "{}",
        if buf.is_empty() {
            "flowlake> "
        } else {
            "      ... "
        }
    )?;
    err.flush()?;
    Ok(())
}

/// Print batches in `format` to stdout.
pub fn print(batches: &[RecordBatch], format: Format) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Table => {
            writeln!(
                out,
                "{}",
                arrow::util::pretty::pretty_format_batches(batches)?
            )?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            w.write_batches(&refs)?;
            w.finish()?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}
