//! The raw schemas SQL sees (`flowlake_marts::raw`) are the ones the connectors write
//! (`flowlake_model::Entity::schema`), column for column (nullability aside: every raw column
//! is nullable on the reading side).

use flowlake_marts::raw::RAW_TABLES;
use flowlake_model::Entity;

#[test]
fn raw_schemas_match_the_model() {
    assert_eq!(RAW_TABLES.len(), Entity::ALL.len());
    for entity in Entity::ALL {
        let table = RAW_TABLES
            .iter()
            .find(|t| t.rel == entity.dir().trim_end_matches('/'))
            .unwrap_or_else(|| panic!("no raw table for {}", entity.dir()));
        let ours: Vec<_> = table
            .file_schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        let theirs: Vec<_> = entity
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        assert_eq!(ours, theirs, "{}", table.name);
    }
}
