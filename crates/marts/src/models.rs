//! The models as one dependency graph, in build order.
//!
//! Most models are `.sql` files of the `sql/` folder, one query each; a model's name is the
//! file stem. A few are Rust ([`RustModel`]): code that reads the tables it declares and
//! returns rows (`mart_forecasts` runs the Monte Carlo forecast of `flowlake-forecast`). Both
//! kinds are nodes of the same graph. A model's layer comes from its name (`stg_`, `int_`, or
//! `fct_`/`dim_`/`mart_`). The build order is derived from what each model reads: a SQL
//! model's query is parsed with DataFusion's SQL parser and the tables it reads (minus its own
//! CTE names) are its dependencies; a Rust model declares them. The models are then sorted
//! topologically.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{ObjectName, Query, Statement, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::config::{
    CONFIG_TABLE, FLOW_CONFIG_TABLE, IDENTITY_ALIASES_TABLE, STATUS_OVERRIDES_TABLE, TEAMS_TABLE,
};
use crate::error::{Error, Result};
use crate::raw::RAW_TABLES;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_sql.rs"));
}

/// Where a model sits in the pipeline, which decides how it is materialized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// `stg_*`: 1:1 with a raw table (rename, cast, latest version per key).
    Staging,
    /// `int_*`: business logic.
    Intermediate,
    /// `fct_*`, `dim_*`, `mart_*`: one entity at one grain, written to the lake as Parquet.
    Mart,
}

impl Layer {
    /// The layer a model name implies, if any.
    pub fn of(name: &str) -> Option<Layer> {
        if name.starts_with("stg_") {
            Some(Layer::Staging)
        } else if name.starts_with("int_") {
            Some(Layer::Intermediate)
        } else if ["fct_", "dim_", "mart_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            Some(Layer::Mart)
        } else {
            None
        }
    }
}

/// One model of the graph.
#[derive(Clone, Debug)]
pub struct Model {
    /// The table name the model defines (the file stem, or the Rust model's name).
    pub name: String,
    /// Its layer.
    pub layer: Layer,
    /// Where it is defined: the file relative to the models folder (`marts/mart_dora.sql`),
    /// or the Rust source file.
    pub path: String,
    /// How it is computed.
    pub kind: ModelKind,
    /// The tables it reads (raw tables, config tables and models), sorted.
    pub reads: Vec<String>,
}

impl Model {
    /// The query of a SQL model; `None` for a Rust model.
    pub fn sql(&self) -> Option<&str> {
        match &self.kind {
            ModelKind::Sql(sql) => Some(sql),
            ModelKind::Rust(_) => None,
        }
    }
}

/// How a model is computed.
#[derive(Clone, Debug)]
pub enum ModelKind {
    /// One query of the `sql/` folder.
    Sql(String),
    /// Rust code over the tables it declares.
    Rust(RustModel),
}

/// The future a [`RustModel`] returns: its rows, in its schema.
pub type RustModelFuture<'a> = futures::future::BoxFuture<'a, crate::Result<Vec<RecordBatch>>>;

/// A model computed in Rust rather than SQL, for logic SQL cannot hold (a Monte Carlo
/// forecast). It reads SQL models like any model and is materialized like any model of its
/// layer (a mart is written to the lake), in the order the graph gives it.
///
/// It declares what it reads, as a SQL model's query does by naming tables: `run` gets a
/// session holding exactly those tables and nothing else, so a read it did not declare fails
/// instead of silently building out of order.
#[derive(Clone, Copy, Debug)]
pub struct RustModel {
    /// The table it defines; its prefix gives its layer, as for SQL models.
    pub name: &'static str,
    /// The tables it reads: models, raw or config tables.
    pub reads: &'static [&'static str],
    /// Where it is defined (`file!()`), for error messages and listings.
    pub source: &'static str,
    /// The schema of its rows, also the schema of an empty result or of the table registered
    /// before it is built.
    pub schema: fn() -> SchemaRef,
    /// Computes its rows from a session in which its `reads` are registered.
    pub run: for<'a> fn(&'a SessionContext) -> RustModelFuture<'a>,
}

impl RustModel {
    fn into_model(self) -> Result<Model> {
        let layer = Layer::of(self.name).ok_or_else(|| Error::UnknownTable {
            model: self.name.to_string(),
            table: format!(
                "(Rust model {} has no stg_/int_/fct_/dim_/mart_ prefix)",
                self.source
            ),
        })?;
        let mut reads: Vec<String> = self.reads.iter().map(|t| t.to_lowercase()).collect();
        reads.sort();
        reads.dedup();
        Ok(Model {
            name: self.name.to_string(),
            layer,
            path: self.source.to_string(),
            kind: ModelKind::Rust(self),
            reads,
        })
    }
}

/// The Rust models of flowlake, part of every graph built from a `sql/` folder
/// ([`Models::embedded`], [`Models::from_dir`]).
pub fn rust_models() -> Vec<RustModel> {
    vec![crate::forecasts::MODEL]
}

/// The folder under `sql/` of read-only queries over the marts (`flowlake demo`, `people
/// unmatched`, …): embedded with the models, never built as one.
pub const QUERIES_DIR: &str = "queries/";

/// The read-only query `sql/queries/<name>.sql`, as embedded at compile time.
pub fn query(name: &str) -> Option<&'static str> {
    embedded::EMBEDDED_SQL
        .iter()
        .find(|(p, _)| p.strip_prefix(QUERIES_DIR) == Some(&format!("{name}.sql")))
        .map(|(_, sql)| *sql)
}

/// Every model of a `sql/` folder, in an order where each model comes after what it reads.
#[derive(Clone, Debug)]
pub struct Models {
    ordered: Vec<Model>,
}

impl Models {
    /// The models embedded at compile time from the repository's `sql/` folder, and the
    /// [`rust_models`].
    pub fn embedded() -> Result<Models> {
        Models::new(
            embedded::EMBEDDED_SQL
                .iter()
                .map(|(p, s)| (p.to_string(), s.to_string())),
            rust_models(),
        )
    }

    /// The models of a folder on disk (searched recursively for `*.sql`), and the
    /// [`rust_models`]: a folder that replaces `sql/` must define what they read.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Models> {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        files.sort();
        let mut loaded = Vec::with_capacity(files.len());
        for path in files {
            let sql = std::fs::read_to_string(&path).map_err(|source| Error::ReadSql {
                path: path.clone(),
                source,
            })?;
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            loaded.push((rel, sql));
        }
        Models::new(loaded, rust_models())
    }

    /// SQL models only, from `(path, sql)` pairs; a file whose name has no layer prefix is an
    /// error.
    pub fn from_files(files: impl IntoIterator<Item = (String, String)>) -> Result<Models> {
        Models::new(files, [])
    }

    /// SQL models from `(path, sql)` pairs and Rust models, in one graph. Two models of one
    /// name, a read of an unknown table and a cycle are errors.
    pub fn new(
        files: impl IntoIterator<Item = (String, String)>,
        rust: impl IntoIterator<Item = RustModel>,
    ) -> Result<Models> {
        let mut by_name: BTreeMap<String, Model> = BTreeMap::new();
        let mut add = |model: Model| {
            if let Some(first) = by_name.get(&model.name) {
                return Err(Error::DuplicateModel {
                    model: model.name,
                    first: first.path.clone(),
                    second: model.path,
                });
            }
            by_name.insert(model.name.clone(), model);
            Ok(())
        };
        for (path, sql) in files {
            // sql/queries/ holds read-only queries the CLI runs over the marts, not models.
            if path.starts_with(QUERIES_DIR) {
                continue;
            }
            let name = Path::new(&path)
                .file_stem()
                .map(|s| s.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            let layer = Layer::of(&name).ok_or_else(|| Error::UnknownTable {
                model: name.clone(),
                table: format!("(file {path} has no stg_/int_/fct_/dim_/mart_ prefix)"),
            })?;
            let reads = referenced_tables(&name, &sql)?;
            add(Model {
                name,
                layer,
                path,
                kind: ModelKind::Sql(sql),
                reads,
            })?;
        }
        for model in rust {
            add(model.into_model()?)?;
        }
        let ordered = topo_sort(by_name)?;
        Ok(Models { ordered })
    }

    /// The models, dependencies first. Ties are broken by layer, then name, so the order is
    /// stable.
    pub fn ordered(&self) -> &[Model] {
        &self.ordered
    }

    /// The model called `name`.
    pub fn get(&self, name: &str) -> Option<&Model> {
        self.ordered.iter().find(|m| m.name == name)
    }

    /// The models of one layer, in build order.
    pub fn layer(&self, layer: Layer) -> impl Iterator<Item = &Model> {
        self.ordered.iter().filter(move |m| m.layer == layer)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::ReadSql {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadSql {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// Tables a query reads, without the names of its own CTEs, lower-cased.
///
/// CTE names are collected over the whole file and not per scope: a model that names a CTE
/// like a real table would hide that dependency, so don't.
pub fn referenced_tables(model: &str, sql: &str) -> Result<Vec<String>> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(|source| Error::Sql {
        model: model.to_string(),
        source,
    })?;
    let [statement] = statements.as_slice() else {
        return Err(Error::NotAQuery {
            model: model.to_string(),
        });
    };
    if !matches!(statement, Statement::Query(_)) {
        return Err(Error::NotAQuery {
            model: model.to_string(),
        });
    }
    #[derive(Default)]
    struct Refs {
        tables: BTreeSet<String>,
        ctes: BTreeSet<String>,
    }
    impl Visitor for Refs {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let Some(with) = &query.with {
                for cte in &with.cte_tables {
                    self.ctes.insert(cte.alias.name.value.to_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
            if let Some(ident) = relation.0.last().and_then(|p| p.as_ident()) {
                self.tables.insert(ident.value.to_lowercase());
            }
            ControlFlow::Continue(())
        }
    }
    let mut refs = Refs::default();
    let _ = statement.visit(&mut refs);
    Ok(refs.tables.difference(&refs.ctes).cloned().collect())
}

fn is_source_table(name: &str) -> bool {
    [
        CONFIG_TABLE,
        TEAMS_TABLE,
        IDENTITY_ALIASES_TABLE,
        FLOW_CONFIG_TABLE,
        STATUS_OVERRIDES_TABLE,
    ]
    .contains(&name)
        || RAW_TABLES.iter().any(|t| t.name == name)
}

fn topo_sort(by_name: BTreeMap<String, Model>) -> Result<Vec<Model>> {
    for model in by_name.values() {
        for table in &model.reads {
            if !is_source_table(table) && !by_name.contains_key(table) {
                return Err(Error::UnknownTable {
                    model: model.name.clone(),
                    table: table.clone(),
                });
            }
        }
    }
    // Depth-first, visiting models in (layer, name) order so the result is stable.
    let mut keys: Vec<(Layer, String)> = by_name
        .values()
        .map(|m| (m.layer, m.name.clone()))
        .collect();
    keys.sort();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        name: &str,
        by_name: &BTreeMap<String, Model>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<()> {
        match marks.get(name) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                let start = stack.iter().position(|s| s == name).unwrap_or(0);
                let mut models: Vec<String> = stack[start..].to_vec();
                models.push(name.to_string());
                return Err(Error::Cycle { models });
            }
            None => {}
        }
        marks.insert(name.to_string(), Mark::Visiting);
        stack.push(name.to_string());
        let model = &by_name[name];
        let mut deps: Vec<&Model> = model.reads.iter().filter_map(|t| by_name.get(t)).collect();
        deps.sort_by(|a, b| (a.layer, &a.name).cmp(&(b.layer, &b.name)));
        for dep in deps {
            visit(&dep.name, by_name, marks, stack, out)?;
        }
        stack.pop();
        marks.insert(name.to_string(), Mark::Done);
        out.push(name.to_string());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut stack = Vec::new();
    let mut order = Vec::new();
    for (_, name) in &keys {
        visit(name, &by_name, &mut marks, &mut stack, &mut order)?;
    }
    let mut by_name = by_name;
    Ok(order
        .into_iter()
        .map(|n| by_name.remove(&n).expect("visited names exist"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn ctes_are_not_dependencies() {
        let reads = referenced_tables(
            "int_x",
            "with a as (select * from stg_a), b as (select * from a join raw_github_commits c on true) select * from b",
        )
        .unwrap();
        assert_eq!(reads, vec!["raw_github_commits", "stg_a"]);
    }

    #[test]
    fn order_follows_reads_not_names() {
        let models = Models::from_files(files(&[
            ("marts/fct_a.sql", "select * from int_z"),
            ("intermediate/int_z.sql", "select * from stg_b"),
            ("staging/stg_b.sql", "select * from raw_github_commits"),
        ]))
        .unwrap();
        let names: Vec<_> = models.ordered().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["stg_b", "int_z", "fct_a"]);
    }

    #[test]
    fn cycles_and_unknown_tables_are_errors() {
        let err = Models::from_files(files(&[
            ("int_a.sql", "select * from int_b"),
            ("int_b.sql", "select * from int_a"),
        ]))
        .unwrap_err();
        assert!(
            matches!(&err, Error::Cycle { models } if models.len() == 3),
            "{err}"
        );
        let err = Models::from_files(files(&[("int_a.sql", "select * from nowhere")])).unwrap_err();
        assert!(matches!(err, Error::UnknownTable { .. }));
    }

    #[test]
    fn queries_are_not_models_and_read_only_known_marts() {
        let models = Models::embedded().unwrap();
        let queries: Vec<_> = embedded::EMBEDDED_SQL
            .iter()
            .filter(|(p, _)| p.starts_with(QUERIES_DIR))
            .collect();
        assert!(queries.len() >= 9, "{}", queries.len());
        for (path, sql) in queries {
            let name = path
                .trim_start_matches(QUERIES_DIR)
                .trim_end_matches(".sql");
            assert!(models.get(name).is_none(), "{path} became a model");
            assert_eq!(query(name), Some(*sql));
            let lower = sql.to_lowercase();
            for verb in ["insert ", "create ", "copy ", "drop ", "delete ", "update "] {
                assert!(
                    !lower.contains(verb),
                    "{path}: read-only queries only ({verb})"
                );
            }
            for table in referenced_tables(name, sql).unwrap() {
                assert!(
                    models.get(&table).is_some(),
                    "{path} reads unknown table {table}"
                );
            }
        }
        assert_eq!(query("nope"), None);
    }

    #[test]
    fn embedded_models_sort() {
        let models = Models::embedded().unwrap();
        assert!(models.get("mart_dora").is_some());
        let pos = |n: &str| models.ordered().iter().position(|m| m.name == n).unwrap();
        assert!(pos("fct_deployments") < pos("mart_dora"));
        // The Rust model comes after the SQL models it declares.
        let forecasts = models.get("mart_forecasts").unwrap();
        assert!(matches!(forecasts.kind, ModelKind::Rust(_)));
        assert_eq!(forecasts.layer, Layer::Mart);
        assert_eq!(
            forecasts.reads,
            ["int_forecast_scopes", "mart_throughput_daily"]
        );
        assert!(pos("int_forecast_scopes") < pos("mart_forecasts"));
        assert!(pos("mart_throughput_daily") < pos("mart_forecasts"));
    }

    fn no_columns() -> SchemaRef {
        std::sync::Arc::new(arrow::datatypes::Schema::empty())
    }

    fn no_rows(_: &SessionContext) -> RustModelFuture<'_> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn rust(name: &'static str, reads: &'static [&'static str]) -> RustModel {
        RustModel {
            name,
            reads,
            source: file!(),
            schema: no_columns,
            run: no_rows,
        }
    }

    #[test]
    fn rust_models_take_their_place_in_the_graph() {
        // A SQL mart reads a Rust model that reads a SQL model: the order comes from both
        // kinds of edges, not from names or kinds.
        let models = Models::new(
            files(&[
                ("marts/fct_a.sql", "select * from mart_r"),
                ("intermediate/int_z.sql", "select * from stg_b"),
                ("staging/stg_b.sql", "select * from raw_github_commits"),
            ]),
            [rust("mart_r", &["INT_Z"])],
        )
        .unwrap();
        let names: Vec<_> = models.ordered().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["stg_b", "int_z", "mart_r", "fct_a"]);
        let r = models.get("mart_r").unwrap();
        assert_eq!(
            (r.reads.as_slice(), r.sql()),
            (["int_z".to_string()].as_slice(), None)
        );
    }

    #[test]
    fn rust_models_are_checked_like_sql_models() {
        let cycle = Models::new(
            files(&[("int_a.sql", "select * from mart_r")]),
            [rust("mart_r", &["int_a"])],
        )
        .unwrap_err();
        assert!(matches!(cycle, Error::Cycle { .. }), "{cycle}");
        let unknown = Models::new(Vec::new(), [rust("mart_r", &["int_nowhere"])]).unwrap_err();
        assert!(
            matches!(&unknown, Error::UnknownTable { model, table } if model == "mart_r" && table == "int_nowhere"),
            "{unknown}"
        );
        let twice = Models::new(
            files(&[("marts/mart_r.sql", "select 1 as x")]),
            [rust("mart_r", &[])],
        )
        .unwrap_err();
        assert!(matches!(twice, Error::DuplicateModel { .. }), "{twice}");
        let unprefixed = Models::new(Vec::new(), [rust("forecasts", &[])]).unwrap_err();
        assert!(
            matches!(unprefixed, Error::UnknownTable { .. }),
            "{unprefixed}"
        );
    }
}
