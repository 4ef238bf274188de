//! The JSON Schemas of ripcord's file contracts, generated from the types that are serialised:
//! the report (`ripcord.report/v1`) and the facts bundle (`ripcord.facts/v1`, one shape per
//! product). `schema/*.json` in the repository are these, committed; a test fails when they
//! drift from the types.

use crate::model::report::v1;
use crate::product::REGISTRY;
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
        "description": format!("What `ripcord collect` writes and `--facts` reads ({}).", crate::model::facts::FACTS_SCHEMA),
        "oneOf": products,
        "$defs": definitions,
    })
}

/// The JSON Schema of the fleet report (`ripcord.fleet/v1`); each target's report is a
/// `ripcord.report/v1`.
pub fn fleet_v1() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator
        .into_root_schema_for::<crate::model::report::fleet_v1::FleetReport>()
        .to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "$id".into(),
            json!("https://ripcord.invalid/schema/fleet.v1.json"),
        );
    }
    schema
}

/// The keys of a product's own flags (`es`, `kibana`, `vm_snapshot_taken_at`, …): the
/// command's long flags less the common and connection ones, which the fleet owns. The test
/// below holds them equal to the fields the inventory's serde reader takes.
fn product_keys(command: &clap::Command) -> Vec<String> {
    use clap::Args as _;
    let fleet_owned: Vec<String> = crate::cli::ConnectionArgs::augment_args(
        crate::cli::CommonArgs::augment_args(clap::Command::new("owned")),
    )
    .get_arguments()
    .filter_map(|a| a.get_long().map(str::to_string))
    .collect();
    command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !fleet_owned.iter().any(|o| o == l) && *l != "help")
        .map(|l| l.replace('-', "_"))
        .collect()
}

/// The JSON Schema of a fleet inventory, as the TOML reads once converted to JSON (a TOML
/// datetime becomes an RFC 3339 string). Built from each product's `preflight` command, whose
/// flags are the keys the inventory's serde reader takes (a test holds them equal), so a
/// product's new flag is a new key here without anyone writing it down.
pub fn inventory_v1() -> Value {
    use crate::product::CommandKind;
    let connection = json!({
        "timeout": {"type": "integer", "minimum": 1, "maximum": 3600, "description": "Per-request timeout in seconds (default: --timeout, else 10)."},
        "deadline": {"type": "integer", "minimum": 1, "maximum": 86400, "description": "The target's whole-run deadline in seconds (default: --deadline, else 120)."},
        "ca_cert": {"type": "string", "description": "PEM file of the CA that signed the target's certificates."},
        "insecure": {"type": "boolean", "description": "Do not verify TLS certificates (warned)."},
    });
    let mode = json!({"enum": ["preflight", "rollback"], "description": "The command each target runs (default: preflight)."});
    let targets: Vec<Value> = REGISTRY
        .iter()
        .map(|product| {
            let command = crate::cli::product_command(*product, CommandKind::Preflight);
            let keys = product_keys(&command);
            let mut properties = serde_json::Map::new();
            properties.insert("name".into(), json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", "description": "Unique (ignoring case); names the bundle file, the metrics' target label and the JUnit suite."}));
            properties.insert("product".into(), json!({"const": product.name()}));
            properties.insert("mode".into(), mode.clone());
            properties.insert("tags".into(), json!({"type": "array", "items": {"type": "string"}}));
            let forms = product.credentials();
            let variable = json!({"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "The name of an environment variable, never a secret."});
            let credential_forms: Vec<Value> = forms
                .forms
                .iter()
                .map(|form| {
                    let props: serde_json::Map<String, Value> =
                        form.iter().map(|k| (k.to_string(), variable.clone())).collect();
                    json!({"type": "object", "properties": props, "required": form, "additionalProperties": false})
                })
                .collect();
            properties.insert("credentials".into(), json!({"oneOf": credential_forms, "description": format!("Environment variables holding the credentials, mapped onto RIPCORD_{}_*.", forms.service)}));
            if let Some(c) = connection.as_object() {
                properties.extend(c.clone());
            }
            for arg in command.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                let key = long.replace('-', "_");
                if !keys.contains(&key) {
                    continue;
                }
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                let values: Vec<String> = arg
                    .get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_string())
                    .collect();
                let value_name = arg
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                let one = if !values.is_empty() {
                    json!({"enum": values})
                } else if value_name == "RFC3339" {
                    json!({"type": "string", "format": "date-time"})
                } else {
                    json!({"type": "string"})
                };
                let schema = if !arg.get_action().takes_values() {
                    json!({"type": "boolean", "description": help})
                } else if matches!(arg.get_action(), clap::ArgAction::Append) {
                    let mut forms = vec![one.clone(), json!({"type": "array", "items": one})];
                    if value_name.contains('=') {
                        forms.push(json!({"type": "object", "additionalProperties": {"type": "string"}}));
                    }
                    json!({"oneOf": forms, "description": help})
                } else {
                    let mut one = one;
                    if let Some(map) = one.as_object_mut() {
                        map.insert("description".into(), json!(help));
                    }
                    one
                };
                properties.insert(key, schema);
            }
            json!({
                "type": "object",
                "title": format!("a {} target", product.name()),
                "properties": properties,
                "required": ["name", "product"],
                "additionalProperties": false,
            })
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ripcord.invalid/schema/inventory.v1.json",
        "title": "ripcord fleet inventory v1",
        "description": "The TOML file `ripcord fleet --inventory` reads, as JSON. A target's keys are its product's single-target flags (`--vm-snapshot-taken-at` is `vm_snapshot_taken_at`); where a value comes from, first found: the target, [defaults], the fleet's flag, the built-in default.",
        "type": "object",
        "properties": {
            "defaults": {
                "type": "object",
                "properties": {
                    "mode": mode,
                    "timeout": connection["timeout"],
                    "deadline": connection["deadline"],
                    "ca_cert": connection["ca_cert"],
                    "insecure": connection["insecure"],
                },
                "additionalProperties": false,
            },
            "target": {"type": "array", "minItems": 1, "items": {"oneOf": targets}},
        },
        "required": ["target"],
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::{CommandKind, ForProduct, Product};

    /// The fields a product's argument type takes from serde.
    struct SerdeFields;

    impl ForProduct for SerdeFields {
        type Output = Vec<String>;

        fn call<P: Product>(self) -> Vec<String> {
            serde_aux::serde_introspection::serde_introspect::<P::Args>()
                .iter()
                .map(|f| f.to_string())
                .collect()
        }
    }

    #[test]
    fn every_flag_of_a_product_is_an_inventory_key_and_back() {
        for product in REGISTRY.iter() {
            for kind in [CommandKind::Preflight, CommandKind::Rollback] {
                let mut flags = product_keys(&crate::cli::product_command(*product, kind));
                let mut fields = product.with(SerdeFields);
                flags.sort();
                fields.sort();
                assert_eq!(flags, fields, "{} {kind:?}", product.name());
                assert!(!fields.is_empty());
            }
        }
    }
}
