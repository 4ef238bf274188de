//! One `[[target]]` checked whole before any collection: the fleet's keys (name, product,
//! mode, tags, credentials, connection), then the rest filled into its product's own argument
//! type with serde and checked as `preflight PRODUCT` checks its flags, each refusal pointed at
//! the key it came from and said in the inventory's words.

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

    // Every key not the fleet's is the product's: its own argument type, filled by serde.
    let product_keys: Table = table
        .iter()
        .filter(|(k, _)| {
            let k = k.get_ref().as_str();
            !TARGET_KEYS.contains(&k) && !CONNECTION_KEYS.contains(&k)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let args = product.with(FillArgs {
        keys: &product_keys,
        within: &within,
        fail,
    })?;
    let connection = connection(table, defaults, flags, &within, fail)?;

    crate::run::check_target(product, mode, args.as_ref(), flags.offline).map_err(|e| {
        let (message, help) = match e {
            crate::run::Error::Usage(u) => (u.message, u.help),
            other => (other.to_string(), None),
        };
        let span = table
            .iter()
            .filter(|(k, _)| mentions(&message, &format!("--{}", k.get_ref().replace('_', "-"))))
            .map(|(_, v)| v.span())
            .next()
            .unwrap_or_else(|| name_value.span());
        fail(
            span,
            within(inventory_words(&message)),
            help.map(|h| inventory_words(&h)),
        )
    })?;
    Ok(TargetSpec {
        name,
        product,
        mode,
        tags,
        args,
        connection,
        credentials,
        credentials_hint,
    })
}

/// Fills a product's own argument type from a target's product keys: an unknown key is
/// refused with the closest known one, a bad value at its own key, in the words the command
/// line's parser uses.
struct FillArgs<'a, W, F> {
    keys: &'a Table,
    within: &'a W,
    fail: &'a F,
}

impl<W, F> ForProduct for FillArgs<'_, W, F>
where
    W: Fn(String) -> String,
    F: Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
{
    type Output = Result<TargetArgs, Box<InventoryError>>;

    fn call<P: Product>(self) -> Self::Output {
        let (within, fail) = (self.within, self.fail);
        let fields = serde_aux::serde_introspection::serde_introspect::<P::Args>();
        let mut whole = toml::Table::new();
        for (key, value) in self.keys {
            let k = key.get_ref().as_str();
            if !fields.contains(&k) {
                return Err(fail(
                    key.span(),
                    within(format!("unknown key {k:?} for product {}", P::NAME)),
                    Some(known_keys_hint(k, fields)),
                ));
            }
            let plain = plain(value.get_ref());
            // One key at a time, so a refusal points at its own value.
            let one = toml::Table::from_iter([(k.to_string(), plain.clone())]);
            if let Err(e) = Value::Table(one).try_into::<P::Args>() {
                return Err(fail(
                    value.span(),
                    within(format!("{k}: {}", e.message().trim())),
                    None,
                ));
            }
            whole.insert(k.to_string(), plain);
        }
        let args: P::Args = Value::Table(whole)
            .try_into()
            .map_err(|e| fail(0..0, within(e.message().trim().to_string()), None))?;
        Ok(Box::new(args))
    }
}

/// `did you mean …? keys: …` for an unknown key: the fleet's keys and the product's.
fn known_keys_hint(key: &str, product_fields: &[&str]) -> String {
    let mut known: Vec<&str> = TARGET_KEYS
        .iter()
        .chain(CONNECTION_KEYS)
        .chain(product_fields)
        .copied()
        .collect();
    known.sort_unstable();
    let closest = known
        .iter()
        .map(|c| (strsim::jaro_winkler(key, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c);
    match closest {
        Some(c) => format!("did you mean {c:?}? keys: {}", known.join(", ")),
        None => format!("keys: {}", known.join(", ")),
    }
}

/// A TOML value as serde reads a flag's: a datetime (`vm_snapshot_taken_at = 2026-…Z`)
/// becomes its RFC 3339 text.
fn plain(value: &Value) -> Value {
    match value {
        Value::Datetime(d) => Value::String(d.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(plain).collect()),
        Value::Table(t) => Value::Table(t.iter().map(|(k, v)| (k.clone(), plain(v))).collect()),
        other => other.clone(),
    }
}

/// The connection settings of a target, each from the first that sets it: the target's key,
/// `[defaults]`, the fleet's flag, the built-in default.
fn connection(
    table: &Table,
    defaults: &Defaults,
    flags: &FlagDefaults,
    within: &impl Fn(String) -> String,
    fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
) -> Result<ConnectionArgs, Box<InventoryError>> {
    let set = |key: &str| -> Option<(Value, Range<usize>)> {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| (v.get_ref().clone(), v.span()))
            .or_else(|| {
                defaults
                    .connection
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, v, span)| (v.clone(), span.clone()))
            })
    };
    let seconds = |key: &str, max: i64, fallback: u64| -> Result<u64, Box<InventoryError>> {
        match set(key) {
            None => Ok(fallback),
            Some((Value::Integer(n), _)) if (1..=max).contains(&n) => Ok(n as u64),
            Some((value, span)) => Err(fail(
                span,
                within(format!(
                    "{key} must be a whole number of seconds from 1 to {max}, not {value}"
                )),
                None,
            )),
        }
    };
    let timeout = seconds(
        "timeout",
        crate::cli::MAX_TIMEOUT_SECS as i64,
        flags.timeout.unwrap_or(crate::cli::DEFAULT_TIMEOUT_SECS),
    )?;
    let deadline = seconds(
        "deadline",
        crate::cli::MAX_DEADLINE_SECS as i64,
        flags.deadline.unwrap_or(crate::cli::DEFAULT_DEADLINE_SECS),
    )?;
    let ca_cert = match set("ca_cert") {
        None => flags.ca_cert.clone(),
        Some((Value::String(path), _)) if !path.is_empty() => Some(PathBuf::from(path)),
        Some((value, span)) => {
            return Err(fail(
                span,
                within(format!(
                    "ca_cert must be the path of a PEM file, not {value}"
                )),
                None,
            ));
        }
    };
    let insecure = match set("insecure") {
        None => flags.insecure,
        Some((Value::Boolean(b), _)) => b,
        Some((value, span)) => {
            return Err(fail(
                span,
                within(format!("insecure must be true or false, not {value}")),
                None,
            ));
        }
    };
    Ok(ConnectionArgs {
        timeout,
        deadline,
        ca_cert,
        insecure,
        // Progress is the fleet's; -v is the fleet's too.
        no_progress: true,
        verbose: flags.verbose,
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
