//! DataFusion sessions over the lake (for `flowlake build` and `flowlake sql`) or over empty
//! in-memory raw tables (for golden tests).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SessionConfig;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_plan::collect_partitioned;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flowlake_lake::Lake;

use crate::config::{FlowConfig, MartsConfig, register_mem};
use crate::error::{Error, Result};
use crate::models::{Layer, Model, ModelKind, Models, RustModel};
use crate::raw::{PARTITION_COLUMN, RAW_TABLES, RawTable};

/// A session with flowlake's settings: fixed `target_partitions`, UTC.
pub fn new_session(target_partitions: usize) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(target_partitions.max(1))
        .with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_udaf(crate::quantile::udaf());
    ctx
}

/// Register every raw table as an empty in-memory table with the contract's schema. Golden
/// tests then `insert into raw_github_pull_requests (…) values …`.
pub fn register_empty_raw(ctx: &SessionContext) -> Result<()> {
    for table in RAW_TABLES.iter() {
        register_mem(ctx, table.name, table.table_schema(), Vec::new())?;
    }
    Ok(())
}

/// Register every raw table of the lake as a Parquet listing table (Hive partition
/// `ingest_date`). A raw table without files yet is an empty table with the contract's schema.
pub async fn register_raw(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    ctx.register_object_store(&lake.store_url(), lake.store());
    for table in RAW_TABLES.iter() {
        if lake.exists_prefix(table.rel).await? {
            register_listing(ctx, lake, table)?;
        } else {
            register_mem(ctx, table.name, table.table_schema(), Vec::new())?;
        }
    }
    Ok(())
}

pub(crate) fn register_listing(ctx: &SessionContext, lake: &Lake, table: &RawTable) -> Result<()> {
    let register = || -> datafusion::error::Result<()> {
        let url = ListingTableUrl::parse(lake.table_url(table.rel))?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![(
                PARTITION_COLUMN.to_string(),
                arrow::datatypes::DataType::Utf8,
            )]);
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(table.file_schema());
        ctx.deregister_table(table.name)?;
        ctx.register_table(table.name, Arc::new(ListingTable::try_new(config)?))?;
        Ok(())
    };
    register().map_err(|source| Error::Register {
        table: table.name.to_string(),
        source,
    })
}

/// Register one model as a view (a logical plan, evaluated by whoever reads it). A Rust model
/// has no view: it is registered as an empty table with its schema, so the models that read
/// it still plan; its rows exist only once [`Marts::build`] has computed them.
pub async fn register_view(ctx: &SessionContext, model: &Model) -> Result<()> {
    let wrap = |source: DataFusionError| Error::Model {
        model: model.name.clone(),
        source,
    };
    let table = match &model.kind {
        ModelKind::Sql(sql) => ctx.sql(sql).await.map_err(wrap)?.into_view(),
        ModelKind::Rust(rust) => {
            Arc::new(MemTable::try_new((rust.schema)(), vec![Vec::new()]).map_err(wrap)?)
        }
    };
    ctx.deregister_table(&model.name).map_err(wrap)?;
    ctx.register_table(&model.name, table).map_err(wrap)?;
    Ok(())
}

/// Computes one model in `ctx`, where what it reads is registered: its schema and its rows.
async fn compute(
    ctx: &SessionContext,
    model: &Model,
) -> Result<(SchemaRef, Vec<Vec<RecordBatch>>)> {
    match &model.kind {
        ModelKind::Sql(sql) => {
            let wrap = |source: DataFusionError| Error::Model {
                model: model.name.clone(),
                source,
            };
            let df = ctx.sql(sql).await.map_err(wrap)?;
            let plan = df.create_physical_plan().await.map_err(wrap)?;
            let schema = plan.schema();
            let partitions = collect_partitioned(plan, ctx.task_ctx())
                .await
                .map_err(wrap)?;
            Ok((schema, partitions))
        }
        ModelKind::Rust(rust) => {
            let scoped = scoped_session(ctx, model, rust).await?;
            let batches = (rust.run)(&scoped)
                .await
                .map_err(|source| Error::RustModel {
                    model: model.name.clone(),
                    source: Box::new(source),
                })?;
            Ok(((rust.schema)(), vec![batches]))
        }
    }
}

/// A session with `ctx`'s settings and object stores in which only the tables a Rust model
/// declares are registered: what it reads is what the graph ordered it after.
async fn scoped_session(
    ctx: &SessionContext,
    model: &Model,
    rust: &RustModel,
) -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_config(ctx.copied_config())
        .with_runtime_env(ctx.runtime_env())
        .with_default_features()
        .build();
    let scoped = SessionContext::new_with_state(state);
    scoped.register_udaf(crate::quantile::udaf());
    for table in &model.reads {
        let wrap = |source: DataFusionError| Error::Register {
            table: table.clone(),
            source,
        };
        let provider = ctx.table_provider(table.as_str()).await.map_err(wrap)?;
        scoped
            .register_table(table.as_str(), provider)
            .map_err(wrap)?;
    }
    tracing::trace!(model = rust.name, reads = ?model.reads, "scoped session");
    Ok(scoped)
}

/// A session for golden tests: empty in-memory raw tables, `config`'s tables, the default
/// [`FlowConfig`]'s tables, and every model registered as a view over them, so rows inserted
/// into the raw tables later flow through every SQL model (a Rust model is an empty table:
/// see [`register_view`]).
pub async fn fixture_session(models: &Models, config: &MartsConfig) -> Result<SessionContext> {
    let ctx = new_session(config.target_partitions);
    register_empty_raw(&ctx)?;
    config.register(&ctx)?;
    FlowConfig::default().register(&ctx)?;
    for model in models.ordered() {
        register_view(&ctx, model).await?;
    }
    Ok(ctx)
}

/// Rows and time spent on one model during [`Marts::build`].
#[derive(Clone, Debug)]
pub struct ModelReport {
    /// The model.
    pub name: String,
    /// Its layer.
    pub layer: Layer,
    /// Rows it produced.
    pub rows: usize,
    /// Wall time to compute (and for marts, write) it.
    pub duration: Duration,
    /// Where the build wrote it, relative to the lake root (marts only):
    /// `marts/_builds/<build_id>/<model>/data.parquet`.
    pub path: Option<String>,
}

/// What [`Marts::build`] did.
#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    /// The build's id: its marts live under `marts/_builds/<build_id>/`.
    pub build_id: String,
    /// One entry per model, in build order.
    pub models: Vec<ModelReport>,
    /// Wall time of the whole build.
    pub duration: Duration,
}

impl BuildReport {
    /// The report of one model.
    pub fn model(&self, name: &str) -> Option<&ModelReport> {
        self.models.iter().find(|m| m.name == name)
    }
}

/// Builds the models of a lake.
#[derive(Clone, Debug)]
pub struct Marts {
    lake: Lake,
    config: MartsConfig,
    flow: FlowConfig,
    models: Models,
}

/// The lake-relative path a mart is written to.
pub fn mart_path(model: &str) -> String {
    format!("marts/{model}/data.parquet")
}

impl Marts {
    /// Marts over `lake` with the models embedded at compile time.
    pub fn new(lake: Lake, config: MartsConfig) -> Result<Marts> {
        Ok(Marts {
            lake,
            config,
            flow: FlowConfig::default(),
            models: Models::embedded()?,
        })
    }

    /// Use other models (e.g. `Models::from_dir("sql")` for `--sql-dir`).
    pub fn with_models(mut self, models: Models) -> Marts {
        self.models = models;
        self
    }

    /// Use other flow settings (the Jira marts) than [`FlowConfig::default`].
    pub fn with_flow(mut self, flow: FlowConfig) -> Marts {
        self.flow = flow;
        self
    }

    /// The flow settings.
    pub fn flow(&self) -> &FlowConfig {
        &self.flow
    }

    /// The models, in build order.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// The configuration.
    pub fn config(&self) -> &MartsConfig {
        &self.config
    }

    /// Build and publish: [`Marts::build_unpublished`] under a new build id, then
    /// [`crate::publish::publish`] keeping the three newest builds.
    pub async fn build(&self, progress: impl FnMut(&str, usize, usize)) -> Result<BuildReport> {
        let build_id = flowlake_lake::new_run_id(chrono::Utc::now());
        let report = self.build_unpublished(&build_id, progress).await?;
        crate::publish::publish(&self.lake, &report, 3).await?;
        Ok(report)
    }

    /// Run every model in dependency order, SQL and Rust alike. Staging and intermediate
    /// models are computed once and kept in memory for the models that read them; marts are
    /// written to `<lake>/marts/_builds/<build_id>/<model>/data.parquet` and read back from
    /// there. Nothing is published: readers keep seeing the previous build until
    /// [`crate::publish::publish`]. `progress(model, done, total)` is called after each model.
    pub async fn build_unpublished(
        &self,
        build_id: &str,
        mut progress: impl FnMut(&str, usize, usize),
    ) -> Result<BuildReport> {
        let started = Instant::now();
        let ctx = new_session(self.config.target_partitions);
        register_raw(&ctx, &self.lake).await?;
        self.config.register(&ctx)?;
        self.flow.register(&ctx)?;
        let total = self.models.ordered().len();
        let mut report = BuildReport {
            build_id: build_id.to_string(),
            ..BuildReport::default()
        };
        for (i, model) in self.models.ordered().iter().enumerate() {
            let model_started = Instant::now();
            let wrap = |source: DataFusionError| Error::Model {
                model: model.name.clone(),
                source,
            };
            let (schema, partitions) = compute(&ctx, model).await?;
            let rows = partitions.iter().flatten().map(RecordBatch::num_rows).sum();
            let path = match model.layer {
                Layer::Staging | Layer::Intermediate => {
                    let table = MemTable::try_new(schema, partitions).map_err(wrap)?;
                    ctx.register_table(&model.name, Arc::new(table))
                        .map_err(wrap)?;
                    None
                }
                Layer::Mart => {
                    let path = crate::publish::build_path(build_id, &model.name);
                    let batches: Vec<RecordBatch> = partitions.into_iter().flatten().collect();
                    self.lake
                        .put_parquet(&path, &batches, schema)
                        .await
                        .map_err(|source| Error::Materialize {
                            model: model.name.clone(),
                            path: path.clone(),
                            source,
                        })?;
                    register_mart(&ctx, &self.lake, &model.name, &path).await?;
                    Some(path)
                }
            };
            tracing::debug!(model = %model.name, rows, "built");
            report.models.push(ModelReport {
                name: model.name.clone(),
                layer: model.layer,
                rows,
                duration: model_started.elapsed(),
                path,
            });
            progress(&model.name, i + 1, total);
        }
        report.duration = started.elapsed();
        Ok(report)
    }

    /// A session for ad-hoc SQL: raw tables, config, staging and intermediate models as
    /// views, and marts read from the lake (or as views when not built yet; a Rust mart not
    /// built yet is empty).
    pub async fn query_session(&self) -> Result<SessionContext> {
        let ctx = new_session(self.config.target_partitions);
        register_raw(&ctx, &self.lake).await?;
        self.config.register(&ctx)?;
        self.flow.register(&ctx)?;
        // The published build; a lake built before builds were published has plain paths only.
        let pointer = crate::publish::current(&self.lake).await?;
        for model in self.models.ordered() {
            let published = match (&pointer, model.layer) {
                (Some(p), Layer::Mart) => p.mart(&model.name).map(|m| m.path.clone()),
                // The folder, as lakes written before publishing were read (any file in it).
                (None, Layer::Mart) => self
                    .lake
                    .exists_prefix(&format!("marts/{}", model.name))
                    .await?
                    .then(|| format!("marts/{}/", model.name)),
                _ => None,
            };
            match published {
                Some(path) => register_mart(&ctx, &self.lake, &model.name, &path).await?,
                None => register_view(&ctx, model).await?,
            }
        }
        Ok(ctx)
    }
}

/// Register the mart `name` from `path` (lake-relative): one Parquet object, or a folder of
/// them when it ends with `/`.
async fn register_mart(ctx: &SessionContext, lake: &Lake, name: &str, path: &str) -> Result<()> {
    let wrap = |source: DataFusionError| Error::Register {
        table: name.to_string(),
        source,
    };
    let url = format!("{}{}", lake.url(), path.trim_start_matches('/'));
    ctx.deregister_table(name).map_err(wrap)?;
    ctx.register_parquet(name, &url, ParquetReadOptions::default())
        .await
        .map_err(wrap)?;
    Ok(())
}

/// A session for `flowlake sql` over `lake` with the default configuration and the embedded
/// models: every raw table, staging/intermediate view and mart.
pub async fn session_for_query(lake: &Lake) -> Result<SessionContext> {
    Marts::new(lake.clone(), MartsConfig::default())?
        .query_session()
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    use super::*;
    use crate::models::RustModelFuture;

    fn one_int() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]))
    }

    /// Copies `int_a`, which it declares.
    fn copy_int_a(ctx: &SessionContext) -> RustModelFuture<'_> {
        Box::pin(async move {
            let wrap = |source| Error::Read {
                table: "int_a".into(),
                source,
            };
            ctx.table("int_a")
                .await
                .map_err(wrap)?
                .collect()
                .await
                .map_err(wrap)
        })
    }

    /// Reads a raw table it does not declare.
    fn sneak(ctx: &SessionContext) -> RustModelFuture<'_> {
        Box::pin(async move {
            ctx.table("raw_github_commits")
                .await
                .map_err(|source| Error::Read {
                    table: "raw_github_commits".into(),
                    source,
                })?;
            Ok(Vec::new())
        })
    }

    fn models(run: for<'a> fn(&'a SessionContext) -> RustModelFuture<'a>) -> Models {
        Models::new(
            [(
                "intermediate/int_a.sql".to_string(),
                "select cast(7 as bigint) as x".to_string(),
            )],
            [RustModel {
                name: "mart_r",
                reads: &["int_a"],
                source: file!(),
                schema: one_int,
                run,
            }],
        )
        .unwrap()
    }

    fn sql_mart(value: i64) -> Models {
        Models::new(
            [(
                "marts/mart_v.sql".to_string(),
                format!("select cast({value} as bigint) as x"),
            )],
            [],
        )
        .unwrap()
    }

    async fn read_v(marts: &Marts) -> Vec<RecordBatch> {
        let ctx = marts.query_session().await.unwrap();
        ctx.sql("select x from mart_v")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn readers_see_the_published_build_until_the_next_is_published() {
        let lake = Lake::open("memory://").unwrap();
        let first = Marts::new(lake.clone(), MartsConfig::default())
            .unwrap()
            .with_models(sql_mart(1));
        first.build(|_, _, _| {}).await.unwrap();
        let x = |b: &[RecordBatch]| {
            b[0].column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap()
                .value(0)
        };
        assert_eq!(x(&read_v(&first).await), 1);
        // A second build written but not published (a run killed before its pointer):
        // readers still see the first.
        let second = Marts::new(lake.clone(), MartsConfig::default())
            .unwrap()
            .with_models(sql_mart(2));
        let report = second
            .build_unpublished("b-unpublished", |_, _, _| {})
            .await
            .unwrap();
        assert_eq!(x(&read_v(&second).await), 1);
        // Published: now they see it.
        crate::publish::publish(&lake, &report, 3).await.unwrap();
        assert_eq!(x(&read_v(&second).await), 2);
    }

    #[tokio::test]
    async fn rust_models_are_built_and_written_like_marts_from_what_they_declare() {
        let lake = Lake::open("memory://").unwrap();
        let marts = Marts::new(lake.clone(), MartsConfig::default())
            .unwrap()
            .with_models(models(copy_int_a));
        let report = marts.build(|_, _, _| {}).await.unwrap();
        let r = report.model("mart_r").unwrap();
        assert_eq!(
            (r.rows, r.path.clone()),
            (
                1,
                Some(format!(
                    "marts/_builds/{}/mart_r/data.parquet",
                    report.build_id
                ))
            )
        );
        // Published: the pointer names the build, and the plain path holds a copy.
        let pointer = crate::publish::current(&lake).await.unwrap().unwrap();
        assert_eq!(pointer.build_id, report.build_id);
        assert_eq!(pointer.mart("mart_r").unwrap().rows, 1);
        let batches = lake
            .read_parquet("marts/mart_r/data.parquet")
            .await
            .unwrap();
        assert_eq!(batches[0].schema(), one_int());

        // A read it did not declare fails: the graph could not have ordered it.
        let marts = Marts::new(lake, MartsConfig::default())
            .unwrap()
            .with_models(models(sneak));
        let err = marts.build(|_, _, _| {}).await.unwrap_err();
        assert!(
            matches!(&err, Error::RustModel { model, source }
                if model == "mart_r" && matches!(**source, Error::Read { .. })),
            "{err}"
        );
    }
}
