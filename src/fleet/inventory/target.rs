//! One `[[target]]` resolved through its product's own flag parser: its keys become the
//! flags the single-target command takes, checked as that command would check them before any
//! collection, each refusal pointed at the key it came from and said in the inventory's words.

use super::*;

pub(super) fn check_target(
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
pub(super) fn mentions(message: &str, flag: &str) -> bool {
    message.match_indices(flag).any(|(at, _)| {
        message[at + flag.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'))
    })
}

/// A flag-speaking message in the inventory's words: `--vm-snapshot-taken-at` →
/// `vm_snapshot_taken_at`.
pub(super) fn inventory_words(message: &str) -> String {
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
pub(super) fn clap_flag(e: &clap::Error) -> Option<String> {
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
pub(super) fn clap_message(e: &clap::Error) -> String {
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
pub(super) fn flag_values(value: &Value, takes_value: bool) -> Result<Vec<Option<String>>, String> {
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
