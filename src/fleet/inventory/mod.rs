//! The fleet inventory (`--inventory FILE`): TOML, one `[[target]]` per deployment, checked
//! whole before anything is sent. A target's keys are its product's single-target flags
//! (`es`, `kibana`, `to`, `vm_snapshot_taken_at`, … for `--es`, `--kibana`, …): each entry is
//! read with serde into the product's own argument type, the one `ripcord preflight PRODUCT`
//! fills from its flags, and checked as that command checks them: the same mistake is caught
//! the same way, with the inventory's file, line and column. Credentials are named by
//! environment variable, never written here.
//!
//! ```toml
//! [defaults]
//! mode = "preflight"         # or "rollback"
//! timeout = 10               # also deadline, ca_cert, insecure
//!
//! [[target]]
//! name = "logs-prod"         # unique; also the bundle's file name under --bundles
//! product = "elastic"
//! es = "https://es-logs:9200"
//! kibana = ["https://kb-1:5601", "https://kb-2:5601"]
//! to = "8.15.3"
//! tags = ["prod", "eu"]
//! credentials = { api_key_env = "LOGS_PROD_ES_API_KEY" }
//! ```
//!
//! Where a value comes from, first found: the target's key, `[defaults]`, the fleet's flag
//! (`--timeout`, …), the built-in default. The file is the specific configuration; flags fill
//! what it leaves out.

use super::Error;
use crate::base::file_problem::locate;
use crate::cli::ConnectionArgs;
use crate::model::upgrade::Mode;
use crate::product::{Entry, ForProduct, Product};
use crate::run::TargetArgs;
use indexmap::IndexMap;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::{Spanned, Value};

mod credentials;
mod target;

use credentials::*;
use target::*;

/// The largest inventory read: thousands of targets fit in a fraction of it.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The most targets one inventory may list.
const MAX_TARGETS: usize = 20_000;

/// Keys every target has, whatever its product.
const TARGET_KEYS: &[&str] = &["name", "product", "mode", "tags", "credentials"];

/// Connection flags an inventory may set, in `[defaults]` or per target.
const CONNECTION_KEYS: &[&str] = &["timeout", "deadline", "ca_cert", "insecure"];

/// The credential keys, each naming an environment variable.
const CREDENTIAL_KEYS: &[&str] = &["api_key_env", "username_env", "password_env"];

/// A target's credentials: (single-target variable, the inventory's variable) pairs, and the
/// hint that names them.
type Credentials = (Vec<(String, String)>, String);

type Table = IndexMap<Spanned<String>, Spanned<Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    defaults: Option<Spanned<Table>>,
    #[serde(default)]
    target: Vec<Spanned<Table>>,
}

/// The fleet's own connection flags: what fills a value the inventory leaves out.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlagDefaults {
    pub(crate) timeout: Option<u64>,
    pub(crate) deadline: Option<u64>,
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) insecure: bool,
    pub(crate) verbose: bool,
    /// `--facts DIR`: targets are judged from bundles, so none needs a URL.
    pub(crate) offline: bool,
}

/// A checked inventory.
#[derive(Debug)]
pub(crate) struct Inventory {
    /// The file, as given.
    pub(crate) path: String,
    /// In the file's order.
    pub(crate) targets: Vec<TargetSpec>,
}

/// One target, ready to run.
pub(crate) struct TargetSpec {
    pub(crate) name: String,
    pub(crate) product: &'static dyn Entry,
    pub(crate) mode: Mode,
    pub(crate) tags: Vec<String>,
    /// Its product's arguments (`es`, `to`, …), filled from its keys.
    pub(crate) args: TargetArgs,
    pub(crate) connection: ConnectionArgs,
    /// (single-target variable, the variable the inventory names), e.g.
    /// (`RIPCORD_ES_API_KEY`, `LOGS_PROD_ES_API_KEY`).
    pub(crate) credentials: Vec<(String, String)>,
    /// What to set when its service asks for credentials.
    pub(crate) credentials_hint: String,
}

impl std::fmt::Debug for TargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetSpec")
            .field("name", &self.name)
            .field("product", &self.product.name())
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// One problem in an inventory: exit 2, pointing at the file, line and column.
pub(crate) type InventoryError = crate::base::file_problem::FileProblem;

/// Reads and checks an inventory.
pub(crate) fn load(path: &Path, flags: &FlagDefaults) -> Result<Inventory, Error> {
    let shown = path.display().to_string();
    let bytes = crate::base::files::read_regular(path, MAX_FILE_BYTES).map_err(|e| {
        Error::usage(
            format!("--inventory {shown}: cannot read it: {e}"),
            Some("give the path of a TOML file of [[target]] tables (README \"Fleet\")"),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        problem(
            &shown,
            &lossy,
            at..at + 1,
            "not UTF-8 text".into(),
            Some("save the file as UTF-8".into()),
        )
    })?;
    Ok(parse(&shown, &text, flags)?)
}

const FORMAT_HELP: &str = "an inventory has an optional [defaults] table and [[target]] tables; see README \"Fleet\" and schema/inventory.v1.json";

/// Parses and checks inventory `text` read from `path`.
pub(crate) fn parse(
    path: &str,
    text: &str,
    flags: &FlagDefaults,
) -> Result<Inventory, Box<InventoryError>> {
    let fail = |span: Range<usize>, message: String, help: Option<String>| {
        problem(path, text, span, message, help)
    };
    let raw: RawInventory = toml::from_str(text).map_err(|e| {
        fail(
            e.span().unwrap_or(0..0),
            e.message().trim().to_string(),
            Some(FORMAT_HELP.into()),
        )
    })?;
    if raw.target.is_empty() {
        return Err(fail(
            0..0,
            "the inventory lists no [[target]]".into(),
            Some(FORMAT_HELP.into()),
        ));
    }
    if raw.target.len() > MAX_TARGETS {
        return Err(fail(
            raw.target[MAX_TARGETS].span(),
            format!("more than {MAX_TARGETS} targets"),
            Some("split the fleet into several inventories".into()),
        ));
    }
    let defaults = match &raw.defaults {
        Some(table) => Defaults::check(table.get_ref(), &fail)?,
        None => Defaults::default(),
    };
    let mut targets: Vec<TargetSpec> = Vec::with_capacity(raw.target.len());
    let mut names: std::collections::HashMap<String, Range<usize>> = Default::default();
    for entry in &raw.target {
        let spec = check_target(entry, &defaults, flags, &fail)?;
        let name_span = value_span(entry.get_ref(), "name").unwrap_or(entry.span());
        if let Some(first) = names.insert(spec.name.to_lowercase(), name_span.clone()) {
            let (_, line, _) = locate(text, first);
            return Err(fail(
                name_span,
                format!("target name {:?} is used twice", spec.name),
                Some(format!(
                    "names are unique (compared ignoring case: they name bundle files); the first is on line {line}"
                )),
            ));
        }
        targets.push(spec);
    }
    Ok(Inventory {
        path: path.to_string(),
        targets,
    })
}

/// `[defaults]`, checked.
#[derive(Debug, Default)]
struct Defaults {
    mode: Option<Mode>,
    /// Connection keys: (key, value, span) in the file's order.
    connection: Vec<(String, Value, Range<usize>)>,
}

impl Defaults {
    fn check(
        table: &Table,
        fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
    ) -> Result<Self, Box<InventoryError>> {
        let mut defaults = Self::default();
        for (key, value) in table {
            match key.get_ref().as_str() {
                "mode" => defaults.mode = Some(mode(value, fail)?),
                k if CONNECTION_KEYS.contains(&k) => {
                    defaults.connection.push((
                        k.to_string(),
                        value.get_ref().clone(),
                        value.span(),
                    ));
                }
                other => {
                    return Err(fail(
                        key.span(),
                        format!("unknown key {other:?} in [defaults]"),
                        Some(format!(
                            "[defaults] takes mode, {}",
                            CONNECTION_KEYS.join(", ")
                        )),
                    ));
                }
            }
        }
        Ok(defaults)
    }
}

fn mode(
    value: &Spanned<Value>,
    fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
) -> Result<Mode, Box<InventoryError>> {
    match value.get_ref().as_str() {
        Some("preflight") => Ok(Mode::Preflight),
        Some("rollback") => Ok(Mode::Rollback),
        _ => Err(fail(
            value.span(),
            format!(
                "mode must be \"preflight\" or \"rollback\", not {}",
                value.get_ref()
            ),
            None,
        )),
    }
}

fn value_span(table: &Table, key: &str) -> Option<Range<usize>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v.span())
}

/// A string value, or an error pointing at it.
fn string<'v>(
    key: &str,
    value: &'v Spanned<Value>,
    fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
) -> Result<&'v str, Box<InventoryError>> {
    value.get_ref().as_str().ok_or_else(|| {
        fail(
            value.span(),
            format!(
                "{key} must be a string, not a {}",
                value.get_ref().type_str()
            ),
            None,
        )
    })
}

/// Whether a target name is safe everywhere it goes: a file name under `--bundles`, a
/// Prometheus label, a JUnit suite, a shell word in a printed command.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name.len() <= 100
}

/// Whether `name` can be an environment variable's name (POSIX portable).
fn valid_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn products_help() -> String {
    format!(
        "product is one of: {}",
        crate::product::REGISTRY
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn problem(
    path: &str,
    text: &str,
    span: Range<usize>,
    message: String,
    help: Option<String>,
) -> Box<InventoryError> {
    Box::new(InventoryError::at(
        "ripcord::fleet::inventory",
        path,
        text,
        span,
        message,
        "here",
        help,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[defaults]
mode = "preflight"
timeout = 15

[[target]]
name = "logs-prod"
product = "elastic"
es = "https://es-logs:9200"
kibana = ["https://kb-1:5601", "https://kb-2:5601"]
to = "8.15.3"
tags = ["prod", "eu"]
credentials = { api_key_env = "LOGS_PROD_ES_API_KEY" }

[[target]]
name = "ghe"
product = "ghes"
ghes = "https://ghe.example.com:8443"
to = "3.15.2"
platform = "esx"
vm_snapshot = "pre-3.15"
vm_snapshot_taken_at = 2026-11-20T02:00:00Z
replica = { "ghe-replica-1" = "3.14.2" }
timeout = 30
credentials = { password_env = "GHE_ROOT_PASSWORD" }
"#;

    fn error_of(text: &str) -> Box<InventoryError> {
        parse("fleet.toml", text, &FlagDefaults::default()).expect_err("invalid")
    }

    #[test]
    fn the_documented_inventory_parses_into_single_target_flags() {
        let inventory = parse("fleet.toml", GOOD, &FlagDefaults::default()).expect("valid");
        assert_eq!(inventory.targets.len(), 2);
        let logs = &inventory.targets[0];
        assert_eq!(logs.name, "logs-prod");
        assert_eq!(logs.tags, ["prod", "eu"]);
        assert_eq!(logs.connection.timeout, 15, "from [defaults]");
        assert!(logs.connection.no_progress);
        let args = logs
            .args
            .downcast_ref::<crate::product::elastic::ElasticArgs>()
            .expect("elastic arguments");
        assert_eq!(args.kibana, ["https://kb-1:5601", "https://kb-2:5601"]);
        assert_eq!(args.to.as_deref(), Some("8.15.3"));
        assert_eq!(
            logs.credentials,
            [(
                "RIPCORD_ES_API_KEY".to_string(),
                "LOGS_PROD_ES_API_KEY".to_string()
            )]
        );
        let ghe = &inventory.targets[1];
        assert_eq!(ghe.connection.timeout, 30, "the target's own key wins");
        assert_eq!(ghe.credentials[0].0, "RIPCORD_GHES_PASSWORD");
    }

    #[test]
    fn flags_fill_what_the_file_leaves_out() {
        let text = GOOD.replace("timeout = 15\n", "");
        let flags = FlagDefaults {
            timeout: Some(42),
            ..Default::default()
        };
        let inventory = parse("fleet.toml", &text, &flags).expect("valid");
        assert_eq!(inventory.targets[0].connection.timeout, 42);
        assert_eq!(inventory.targets[1].connection.timeout, 30);
    }

    #[test]
    fn every_mistake_points_at_its_line_and_column() {
        for (edit, line, column, says) in [
            (("es = ", "ess = "), 9, 1, "unknown key \"ess\""),
            (
                ("to = \"8.15.3\"", "to = \"8.15\""),
                11,
                6,
                "target \"logs-prod\": to",
            ),
            (
                ("\"esx\"", "\"vsphere\""),
                20,
                12,
                "platform: unknown variant `vsphere`, expected one of `ami`",
            ),
            (
                (
                    "api_key_env = \"LOGS_PROD_ES_API_KEY\"",
                    "api_key = \"c2VjcmV0\"",
                ),
                13,
                15,
                "unknown credentials key",
            ),
            (
                (
                    "password_env = \"GHE_ROOT_PASSWORD\"",
                    "api_key_env = \"K\"",
                ),
                25,
                15,
                "is not a form ghes takes",
            ),
            (
                ("name = \"ghe\"", "name = \"LOGS-prod\""),
                16,
                8,
                "used twice",
            ),
            (
                ("product = \"ghes\"", "product = \"gitlab\""),
                17,
                11,
                "unknown product",
            ),
            (
                ("mode = \"preflight\"", "mode = \"restore\""),
                3,
                8,
                "mode must be",
            ),
            (
                (
                    "es = \"https://es-logs:9200\"",
                    "es = \"https://u:p@es-logs:9200\"",
                ),
                9,
                6,
                "credentials in a URL are refused",
            ),
            (("kibana = [", "kibana = [1, "), 10, 10, "kibana"),
            (
                ("timeout = 30", "timeout = 0"),
                24,
                11,
                "timeout must be a whole number",
            ),
            (
                ("timeout = 15", "timeout = \"15\""),
                4,
                11,
                "from 1 to 3600",
            ),
            (
                (
                    "vm_snapshot_taken_at = 2026-11-20T02:00:00Z",
                    "vm_snapshot_taken_at = 2026-11-20",
                ),
                22,
                24,
                "is not a time",
            ),
            (
                (
                    "\"ghe-replica-1\" = \"3.14.2\"",
                    "\"ghe replica\" = \"3.14.2\"",
                ),
                23,
                11,
                "replica:",
            ),
        ] {
            let text = GOOD.replacen(edit.0, edit.1, 1);
            assert_ne!(text, GOOD, "{edit:?} applies");
            let e = error_of(&text);
            assert!(e.message.contains(says), "{edit:?}: {}", e.message);
            assert_eq!(
                (e.line, e.column),
                (line, column),
                "{edit:?}: {}",
                e.message
            );
        }
    }

    #[test]
    fn preflight_needs_to_and_a_name_is_a_plain_word() {
        let e = error_of(&GOOD.replace("to = \"8.15.3\"\n", ""));
        assert!(
            e.message.contains("preflight needs the target version: to"),
            "{}",
            e.message
        );
        assert_eq!(e.line, 7);
        let e = error_of(&GOOD.replace("name = \"ghe\"", "name = \"../ghe\""));
        assert!(e.message.contains("not a plain name"), "{}", e.message);
        let e = error_of("[defaults]\nmode = \"rollback\"\n");
        assert!(e.message.contains("no [[target]]"));
        let e = error_of("[[targets]]\nname = \"x\"\n");
        assert_eq!(e.line, 1, "{}", e.message);
    }

    #[test]
    fn inventory_words_speak_keys() {
        assert_eq!(
            inventory_words("--vm-snapshot-taken-at needs --vm-snapshot, not --"),
            "vm_snapshot_taken_at needs vm_snapshot, not --"
        );
        assert!(mentions("--to 8.15", "--to"));
        assert!(!mentions("--token", "--to"));
    }
}
