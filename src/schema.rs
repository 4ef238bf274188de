//! The JSON Schemas of ripcord's file contracts, generated from the types that are serialised:
//! the report (`ripcord.report/v1`) and the facts bundle (`ripcord.facts/v1`, one shape per
//! product). `schema/*.json` in the repository are these, committed; a test fails when they
//! drift from the types.

use crate::product::REGISTRY;
use crate::report::v1;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// The JSON Schema of the JSON report.
pub fn report_v1() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<v1::Report>().to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "$id".into(),
            json!("https://ripcord.invalid/schema/report.v1.json"),
        );
    }
    schema
}

/// The JSON Schema of the error document `--format json` prints when a run fails (exit 2).
pub fn error_v1() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator
        .into_root_schema_for::<v1::ErrorDocument>()
        .to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "$id".into(),
            json!("https://ripcord.invalid/schema/error.v1.json"),
        );
    }
    schema
}

/// The JSON Schema of a facts bundle: one of the registered products' bundles.
pub fn facts_v1() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let products: Vec<Value> = REGISTRY
        .iter()
        .map(|p| p.bundle_schema(&mut generator).to_value())
        .collect();
    let definitions = generator.take_definitions(true);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ripcord.invalid/schema/facts.v1.json",
        "title": "ripcord facts bundle v1",
        "description": format!("What `ripcord collect` writes and `--facts` reads ({}).", crate::facts::FACTS_SCHEMA),
        "oneOf": products,
        "$defs": definitions,
    })
}
