//! The committed JSON Schemas (`schema/`) are exactly what the types generate, and what
//! ripcord writes (every scenario's report, every committed bundle) is valid against them,
//! checked by a real validator.

use crate::common;
use serde_json::Value;

fn committed_path(file: &str) -> std::path::PathBuf {
    common::fixtures_dir().join("../schema").join(file)
}

fn check(file: &str, generated: &Value) {
    let path = committed_path(file);
    let text = serde_json::to_string_pretty(generated).expect("json") + "\n";
    if std::env::var_os("RIPCORD_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &text).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} drifted from the types; run with RIPCORD_UPDATE_FIXTURES=1 and review the diff",
        path.display()
    );
}

#[test]
fn committed_schemas_match_the_types() {
    check("report.v1.json", &ripcord::app::schema::report_v1());
    check("error.v1.json", &ripcord::app::schema::error_v1());
    check("facts.v1.json", &ripcord::app::schema::facts_v1());
    check("fleet.v1.json", &ripcord::app::schema::fleet_v1());
    check("inventory.v1.json", &ripcord::app::schema::inventory_v1());
}

/// Fails the test unless `instance` is valid against the committed schema `file`.
pub fn assert_valid(file: &str, instance: &Value, what: &str) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(committed_path(file)).expect("committed schema"),
    )
    .expect("schema is JSON");
    let (schemas, index) = compile(schema, &format!("schema/{file}"));
    if let Err(e) = schemas.validate(instance, index) {
        panic!("{what} is not valid against {file}: {e:#}");
    }
}

#[test]
fn committed_bundles_are_valid_facts() {
    for name in common::scenarios() {
        let text = std::fs::read_to_string(common::facts_path(&name)).expect("bundle");
        let bundle: Value = serde_json::from_str(&text).expect("json");
        assert_valid("facts.v1.json", &bundle, &name);
    }
}

#[test]
fn the_schemas_reject_what_the_contract_forbids() {
    let text = std::fs::read_to_string(common::facts_path("failed-minor-upgrade")).expect("bundle");
    let mut bundle: Value = serde_json::from_str(&text).expect("json");
    bundle["elastic"]["snapshots"][0]["state"] = Value::from(7);
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path("facts.v1.json")).unwrap())
            .unwrap();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("facts.json", schema).unwrap();
    let mut schemas = boon::Schemas::new();
    let index = compiler.compile("facts.json", &mut schemas).unwrap();
    assert!(
        schemas.validate(&bundle, index).is_err(),
        "a number as a state"
    );
}

/// GitHub's published Manage API response schemas, one directory per GHES feature release:
/// `fixtures/ghes-schemas/<major.minor>/<operation>.schema.json` (sources in its README).
fn ghes_schemas_dir() -> std::path::PathBuf {
    common::fixtures_dir().join("ghes-schemas")
}

fn repo_relative(path: &std::path::Path) -> &std::path::Path {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
}

/// `3.17.9` or `3.17` → `(3, 17)`.
fn feature_release(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The schema of `operation` (e.g. `get-manage-v1-maintenance`) for the closest GHES release
/// not newer than `running`, else (every release with it is newer, or `running` is unknown)
/// the oldest release that has it.
fn ghes_schema_for(operation: &str, running: Option<(u32, u32)>) -> Option<std::path::PathBuf> {
    let mut releases: Vec<((u32, u32), std::path::PathBuf)> = std::fs::read_dir(ghes_schemas_dir())
        .expect("fixtures/ghes-schemas")
        .flatten()
        .filter_map(|e| {
            let release = feature_release(&e.file_name().to_string_lossy())?;
            let path = e.path().join(format!("{operation}.schema.json"));
            path.is_file().then_some((release, path))
        })
        .collect();
    releases.sort();
    let not_newer = running.and_then(|r| releases.iter().rev().find(|(v, _)| *v <= r));
    not_newer.or(releases.first()).map(|(_, path)| path.clone())
}

/// Compiles a GHES schema as it is committed: draft 2020-12 (its `$schema`), so boon treats
/// `format` as an annotation and does not assert it. On purpose: GitHub's own example breaks
/// its declared formats (`scheduled_time` is `format: date`, the example is the date-time
/// `2006-01-02T15:04:05+00:00`, which is what the server sends), and `ip/cidr` is no JSON Schema
/// format at all. Asserting `format` would reject the real wire shape; type, enum, pattern and
/// structure (what a `null` or a wrong type breaks) are all asserted.
fn compile_ghes_schema(path: &std::path::Path) -> (boon::Schemas, boon::SchemaIndex) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    compile(schema, &repo_relative(path).display().to_string())
}

/// Compiles a schema with boon, named `name` (its path in the repository) in messages.
fn compile(schema: Value, name: &str) -> (boon::Schemas, boon::SchemaIndex) {
    let location = format!("https://ripcord.invalid/{name}");
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource(&location, schema)
        .expect("schema resource");
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(&location, &mut schemas)
        .unwrap_or_else(|e| panic!("{name} is not a valid JSON Schema: {e}"));
    (schemas, index)
}

fn leaf_errors<'a, 's, 'v>(
    e: &'a boon::ValidationError<'s, 'v>,
    out: &mut Vec<&'a boon::ValidationError<'s, 'v>>,
) {
    if e.causes.is_empty() {
        out.push(e);
    }
    e.causes.iter().for_each(|c| leaf_errors(c, out));
}

/// Documented vendor examples that break their own schema, served verbatim on purpose:
/// `(scenario, operation, value)`. GitHub's `/manage/v1/version` example `3.9.0` does not match
/// that schema's own `pattern` `[0-9]\.[0-9]{2}\.[0-9]` (a two-digit minor). Only a `pattern`
/// error on exactly that value, in exactly that scenario and operation, is let through.
const VERBATIM_VENDOR_BREAKS: &[(&str, &str, &str)] =
    &[("ghes-documented", "get-manage-v1-version", "3.9.0")];

/// The primary's feature release, read from the `/manage/v1/version` body: the Manage API
/// answers from the primary, which is the `config/nodes` node with `replica: false`, else the
/// first `/version` entry (as ripcord derives it).
fn running_release(bodies: &std::collections::BTreeMap<String, Value>) -> Option<(u32, u32)> {
    let versions = bodies.get("/manage/v1/version")?.as_array()?;
    let primary = bodies
        .get("/manage/v1/config/nodes")
        .and_then(|c| c["nodes"].as_array())
        .and_then(|nodes| nodes.iter().find(|n| n["replica"] == Value::Bool(false)))
        .and_then(|n| n["hostname"].as_str());
    let entry = versions
        .iter()
        .find(|v| primary.is_some() && v["hostname"].as_str() == primary)
        .or(versions.first())?;
    feature_release(entry["version"]["version"].as_str()?)
}

#[test]
fn ghes_fixture_bodies_follow_the_manage_api_schemas() {
    let shown = |p: &std::path::Path| repo_relative(p).display().to_string();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut breaks_seen = std::collections::BTreeSet::new();
    for name in common::scenarios()
        .into_iter()
        .filter(|n| n.starts_with("ghes-"))
    {
        let routes = common::manifest(&name)
            .ghes
            .map(|g| g.routes)
            .unwrap_or_default();
        // Every 2xx body the fixture server sends (a route cut by `truncate_at` is broken on
        // purpose, so it is not a body the API would send).
        let mut bodies = std::collections::BTreeMap::new();
        let mut sources = std::collections::BTreeMap::new();
        for route in routes
            .iter()
            .filter(|r| (200..300).contains(&r.status) && r.truncate_at.is_none())
        {
            let (text, source) = match (&route.file, &route.body) {
                (Some(file), _) => {
                    let path = route.base.join(file);
                    let text = std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{name}: {}: {e}", path.display()));
                    (text, shown(&path))
                }
                (None, body) => (
                    body.clone().unwrap_or_default(),
                    format!("the inline body of {}", route.path),
                ),
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(body) => {
                    bodies.insert(route.path.clone(), body);
                    sources.insert(route.path.clone(), source);
                }
                Err(e) => failures.push(format!(
                    "{name}: {source} ({}) is not JSON: {e}",
                    route.path
                )),
            }
        }
        let running = running_release(&bodies);
        for (path, body) in &bodies {
            let source = &sources[path];
            let operation = format!("get{}", path.replace('/', "-"));
            let Some(schema_path) = ghes_schema_for(&operation, running) else {
                failures.push(format!(
                    "{name}: {source}: no schema for GET {path} in fixtures/ghes-schemas/ (add it: see its README)"
                ));
                continue;
            };
            checked += 1;
            let (schemas, index) = compile_ghes_schema(&schema_path);
            let Err(e) = schemas.validate(body, index) else {
                continue;
            };
            let mut leaves = Vec::new();
            leaf_errors(&e, &mut leaves);
            let unexplained = leaves.iter().any(|leaf| {
                let vendor_break = VERBATIM_VENDOR_BREAKS.iter().find(|(s, op, value)| {
                    *s == name
                        && *op == operation
                        && matches!(&leaf.kind, boon::ErrorKind::Pattern { got, .. } if got.as_ref() == *value)
                });
                if let Some(b) = vendor_break {
                    breaks_seen.insert(*b);
                }
                vendor_break.is_none()
            });
            if unexplained {
                failures.push(format!(
                    "{name}: {source} is not valid against {}: {e:#}",
                    shown(&schema_path)
                ));
            }
        }
    }
    for b in VERBATIM_VENDOR_BREAKS {
        if !breaks_seen.contains(b) {
            failures.push(format!(
                "VERBATIM_VENDOR_BREAKS lists {b:?}, which no fixture body breaks any more: remove it"
            ));
        }
    }
    assert!(checked > 0, "no GHES fixture body was validated");
    assert!(
        failures.is_empty(),
        "GHES fixture bodies against GitHub's Manage API schemas:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_ghes_schemas_reject_a_null_scheduled_time() {
    let path = ghes_schemas_dir().join("3.17/get-manage-v1-maintenance.schema.json");
    let (schemas, index) = compile_ghes_schema(&path);
    let mut body: Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::fixtures_dir().join("http/ghes-single-node/ghes/maintenance.json"),
        )
        .expect("body"),
    )
    .expect("json");
    assert!(
        schemas.validate(&body, index).is_ok(),
        "the fixture as committed"
    );
    // GitHub's example value (a date-time under `format: date`): formats are not asserted.
    body[0]["scheduled_time"] = Value::from("2006-01-02T15:04:05+00:00");
    assert!(
        schemas.validate(&body, index).is_ok(),
        "the documented date-time"
    );
    body[0]["scheduled_time"] = Value::Null;
    assert!(
        schemas.validate(&body, index).is_err(),
        "a null scheduled_time"
    );
}
