//! The fleet inventory (`--inventory FILE`): TOML, one `[[target]]` per deployment, checked
//! whole before anything is sent. A target's keys are its product's single-target flags
//! (`es`, `kibana`, `to`, `vm_snapshot_taken_at`, … for `--es`, `--kibana`, …), so each entry
//! is parsed by the very clap command `ripcord preflight PRODUCT` uses and checked as that
//! command checks its flags: the same typo is caught the same way, with the inventory's file,
//! line and column. Credentials are named by environment variable, never written here.
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
use crate::product::Entry;
use clap::{ArgMatches, FromArgMatches as _};
use indexmap::IndexMap;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::{Spanned, Value};

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
    /// Its flags, parsed by its product's single-target command.
    pub(crate) matches: ArgMatches,
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

fn check_target(
    entry: &Spanned<Table>,
    defaults: &Defaults,
    flags: &FlagDefaults,
    fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
) -> Result<TargetSpec, Box<InventoryError>> {
    let table = entry.get_ref();
    let header = entry.span().start..entry.span().start;
    let get = |key: &str| table.iter().find(|(k, _)| k.get_ref() == key);

    let Some((_, name_value)) = get("name") else {
        return Err(fail(
            header,
            "a [[target]] has no name".into(),
            Some("every target needs a unique name = \"…\"".into()),
        ));
    };
    let name = string("name", name_value, fail)?.to_string();
    if !valid_name(&name) {
        return Err(fail(
            name_value.span(),
            format!("target name {name:?} is not a plain name"),
            Some("use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit): it names files and metrics".into()),
        ));
    }
    let within = |message: String| format!("target {name:?}: {message}");

    let Some((_, product_value)) = get("product") else {
        return Err(fail(
            name_value.span(),
            within("no product".into()),
            Some(products_help()),
        ));
    };
    let product_name = string("product", product_value, fail)?;
    let product = crate::product::find(product_name).ok_or_else(|| {
        fail(
            product_value.span(),
            within(format!("unknown product {product_name:?}")),
            Some(products_help()),
        )
    })?;
    let mode = match get("mode") {
        Some((_, v)) => mode(v, fail)?,
        None => defaults.mode.unwrap_or(Mode::Preflight),
    };
    let kind = match mode {
        Mode::Preflight => crate::product::CommandKind::Preflight,
        Mode::Rollback => crate::product::CommandKind::Rollback,
    };
    let command = crate::cli::product_command(product, kind);
    let product_keys = product_keys(&command);

    let tags = match get("tags") {
        None => Vec::new(),
        Some((_, v)) => {
            let tags: Option<Vec<String>> = v
                .get_ref()
                .as_array()
                .and_then(|a| a.iter().map(|t| t.as_str().map(str::to_string)).collect());
            tags.ok_or_else(|| {
                fail(
                    v.span(),
                    within("tags must be an array of strings".into()),
                    None,
                )
            })?
        }
    };
    let (credentials, credentials_hint) = match get("credentials") {
        Some((_, v)) => credentials(&name, product, v, fail)?,
        None => (
            Vec::new(),
            format!(
                "credentials for target {name:?} in the inventory ({})",
                forms_text(product)
            ),
        ),
    };

    // The target's flags as the single-target command takes them, each remembering the span
    // it came from so clap's and the product's complaints point into the file.
    let mut argv: Vec<String> = vec![format!("ripcord {} {}", mode.as_str(), product.name())];
    let mut origins: Vec<(String, Range<usize>)> = Vec::new();
    let mut push = |key: &str,
                    value: &Value,
                    span: Range<usize>,
                    argv: &mut Vec<String>|
     -> Result<(), Box<InventoryError>> {
        let flag = format!("--{}", key.replace('_', "-"));
        let takes_value = command
            .get_arguments()
            .find(|a| a.get_long() == Some(&flag[2..]))
            .is_some_and(|a| a.get_action().takes_values());
        let values = flag_values(value, takes_value)
            .map_err(|why| fail(span.clone(), within(format!("{key}: {why}")), None))?;
        origins.push((flag.clone(), span));
        for v in values {
            match v {
                Some(v) => {
                    argv.push(flag.clone());
                    argv.push(v);
                }
                None => argv.push(flag.clone()),
            }
        }
        Ok(())
    };
    for (key, value) in table {
        let k = key.get_ref().as_str();
        if TARGET_KEYS.contains(&k) {
            continue;
        }
        if !CONNECTION_KEYS.contains(&k) && !product_keys.iter().any(|p| p == k) {
            let mut known: Vec<&str> = TARGET_KEYS
                .iter()
                .chain(CONNECTION_KEYS)
                .copied()
                .chain(product_keys.iter().map(String::as_str))
                .collect();
            known.sort_unstable();
            let closest = known
                .iter()
                .map(|c| (strsim::jaro_winkler(k, c), *c))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, c)| c);
            return Err(fail(
                key.span(),
                within(format!("unknown key {k:?} for product {}", product.name())),
                Some(match closest {
                    Some(c) => format!("did you mean {c:?}? keys: {}", known.join(", ")),
                    None => format!("keys: {}", known.join(", ")),
                }),
            ));
        }
        push(k, value.get_ref(), value.span(), &mut argv)?;
    }
    // Connection values the target leaves out: [defaults], then the fleet's flags.
    for key in CONNECTION_KEYS {
        if get(key).is_some() {
            continue;
        }
        if let Some((_, value, span)) = defaults.connection.iter().find(|(k, _, _)| k == key) {
            push(key, value, span.clone(), &mut argv)?;
            continue;
        }
        let from_flag = match *key {
            "timeout" => flags.timeout.map(|t| Value::Integer(t as i64)),
            "deadline" => flags.deadline.map(|t| Value::Integer(t as i64)),
            "ca_cert" => flags
                .ca_cert
                .as_ref()
                .map(|p| Value::String(p.display().to_string())),
            "insecure" => flags.insecure.then_some(Value::Boolean(true)),
            _ => None,
        };
        if let Some(value) = from_flag {
            push(key, &value, header.clone(), &mut argv)?;
        }
    }
    // Progress is the fleet's; -v is the fleet's too.
    argv.push("--no-progress".into());
    if flags.verbose {
        argv.push("--verbose".into());
    }

    let span_of = |flag: &str| {
        origins
            .iter()
            .find(|(f, _)| f == flag)
            .map_or_else(|| name_value.span(), |(_, s)| s.clone())
    };
    let matches = command.try_get_matches_from(&argv).map_err(|e| {
        let flag = clap_flag(&e);
        let message = clap_message(&e);
        let rendered = e.render().to_string();
        let possible = rendered
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("[possible values:"))
            .map(|l| l.trim_matches(['[', ']']).to_string());
        fail(
            flag.as_deref().map_or_else(|| name_value.span(), span_of),
            within(message),
            possible,
        )
    })?;
    crate::run::check_target(product, mode, &matches, flags.offline).map_err(|e| {
        let (message, help) = match e {
            crate::run::Error::Usage(u) => (u.message, u.help),
            other => (other.to_string(), None),
        };
        let span = origins
            .iter()
            .filter(|(flag, _)| mentions(&message, flag))
            .map(|(_, s)| s.clone())
            .next()
            .unwrap_or_else(|| name_value.span());
        fail(
            span,
            within(inventory_words(&message)),
            help.map(|h| inventory_words(&h)),
        )
    })?;
    let mut connection = ConnectionArgs::from_arg_matches(&matches)
        .map_err(|e| fail(name_value.span(), within(clap_message(&e)), None))?;
    connection.no_progress = true;
    Ok(TargetSpec {
        name,
        product,
        mode,
        tags,
        matches,
        connection,
        credentials,
        credentials_hint,
    })
}

/// Whether `message` names `flag` as a whole word (`--to` but not `--to` inside `--token`).
fn mentions(message: &str, flag: &str) -> bool {
    message.match_indices(flag).any(|(at, _)| {
        message[at + flag.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'))
    })
}

/// A flag-speaking message in the inventory's words: `--vm-snapshot-taken-at` →
/// `vm_snapshot_taken_at`.
fn inventory_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(after.len());
        if end == 0 {
            out.push_str("--");
        } else {
            out.push_str(&after[..end].replace('-', "_"));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The `--flag` a clap error is about.
fn clap_flag(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    match e.get(ContextKind::InvalidArg)? {
        ContextValue::String(s) => s
            .split_whitespace()
            .next()
            .filter(|f| f.starts_with("--"))
            .map(str::to_string),
        _ => None,
    }
}

/// A clap error's first line without `error: `, in the inventory's words.
fn clap_message(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    inventory_words(first.trim_start_matches("error: ").trim())
}

/// The keys of a product's own flags (`es`, `kibana`, `vm_snapshot_taken_at`, …): the
/// command's long flags less the common and connection ones, which the fleet owns.
pub(crate) fn product_keys(command: &clap::Command) -> Vec<String> {
    use clap::Args as _;
    let fleet_owned: Vec<String> = ConnectionArgs::augment_args(
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

/// The command-line values of one inventory value: `None` is a bare switch.
fn flag_values(value: &Value, takes_value: bool) -> Result<Vec<Option<String>>, String> {
    let scalar = |v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Integer(i) => Ok(i.to_string()),
            Value::Float(f) => Ok(f.to_string()),
            Value::Datetime(d) => Ok(d.to_string()),
            Value::Boolean(_) => Err("a true/false here takes no value".into()),
            Value::Array(_) | Value::Table(_) => {
                Err(format!("a {} cannot be nested here", v.type_str()))
            }
        }
    };
    if !takes_value {
        return match value {
            Value::Boolean(true) => Ok(vec![None]),
            Value::Boolean(false) => Ok(Vec::new()),
            other => Err(format!("must be true or false, not a {}", other.type_str())),
        };
    }
    match value {
        Value::Array(items) => items.iter().map(|v| scalar(v).map(Some)).collect(),
        // `replica = { "ghe-replica-1" = "3.14.2" }` for `--replica HOST=VERSION`.
        Value::Table(table) => table
            .iter()
            .map(|(k, v)| scalar(v).map(|v| Some(format!("{k}={v}"))))
            .collect(),
        other => scalar(other).map(|v| vec![Some(v)]),
    }
}

/// The target's `credentials`: every key names a set environment variable's name, and the set
/// of keys is one the product takes.
fn credentials(
    name: &str,
    product: &'static dyn Entry,
    value: &Spanned<Value>,
    fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
) -> Result<Credentials, Box<InventoryError>> {
    let forms = product.credentials();
    let Some(table) = value.get_ref().as_table() else {
        return Err(fail(
            value.span(),
            format!(
                "target {name:?}: credentials must be a table, e.g. {{ api_key_env = \"LOGS_PROD_ES_API_KEY\" }}"
            ),
            Some(forms_text(product)),
        ));
    };
    let mut pairs = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for (key, variable) in table {
        if !CREDENTIAL_KEYS.contains(&key.as_str()) {
            let secret_like = variable.as_str().is_some_and(|v| !valid_variable(v));
            return Err(fail(
                value.span(),
                format!("target {name:?}: unknown credentials key {key:?}"),
                Some(if secret_like {
                    format!(
                        "credentials name environment variables, never hold secrets: {}",
                        forms_text(product)
                    )
                } else {
                    forms_text(product)
                }),
            ));
        }
        let Some(variable) = variable.as_str().filter(|v| valid_variable(v)) else {
            return Err(fail(
                value.span(),
                format!("target {name:?}: credentials.{key} must name an environment variable (letters, digits and _)"),
                Some("the inventory names the variable that holds the secret, never the secret itself".into()),
            ));
        };
        let suffix = key.trim_end_matches("_env").to_uppercase();
        pairs.push((
            format!("RIPCORD_{}_{suffix}", forms.service),
            variable.to_string(),
        ));
        keys.push(key.as_str());
    }
    keys.sort_unstable();
    let accepted = forms.forms.iter().any(|form| {
        let mut form: Vec<&str> = form.to_vec();
        form.sort_unstable();
        form == keys
    });
    if !accepted {
        return Err(fail(
            value.span(),
            format!(
                "target {name:?}: credentials {{ {} }} is not a form {} takes",
                keys.join(", "),
                product.name()
            ),
            Some(forms_text(product)),
        ));
    }
    let hint = format!(
        "{} (credentials of target {name:?} in the inventory)",
        pairs
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    Ok((pairs, hint))
}

/// The credential forms a product takes, for help texts.
fn forms_text(product: &'static dyn Entry) -> String {
    let forms: Vec<String> = product
        .credentials()
        .forms
        .iter()
        .map(|f| {
            format!(
                "{{ {} }}",
                f.iter()
                    .map(|k| format!("{k} = \"VARIABLE\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    format!(
        "{} takes credentials = {}",
        product.name(),
        forms.join(" or ")
    )
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
        let kibana: Vec<&String> = logs.matches.get_many("kibana").expect("kibana").collect();
        assert_eq!(kibana.len(), 2);
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
                "invalid value 'vsphere' for 'platform",
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
