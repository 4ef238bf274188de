//! Credentials from the environment, checked before use, and the redaction every byte that
//! leaves the process goes through.
//!
//! ripcord reads credentials from `RIPCORD_*_API_KEY`, `RIPCORD_*_USERNAME` and
//! `RIPCORD_*_PASSWORD` only, never from flags or URLs. A proxy that reflects the
//! `Authorization` header into an error page, or a server that echoes a password back, must not
//! put it in a report, a bundle or a log line, so [`Redactor`] knows every configured secret in
//! every form it can come back in (raw, as the `Basic` base64 pair, JSON-, Markdown-, XML- and
//! percent-escaped).
//!
//! Redaction is applied where outside text comes in, never to text ripcord composes (DESIGN
//! §7: a password `kibana` must not turn `systemctl stop kibana` into `[redacted]`): the facts
//! bundle as it is collected or read ([`Redactor::redact_serde`], before derive, so findings,
//! plans and written bundles are clean), diagnostics' source snippets ([`snippet_safe`]), and
//! stderr's lines (errors, `-v`'s request log), which quote outside text. A secret shorter than
//! [`SHORTEST_REDACTED`] is warned about at start ([`short_secrets`]) and redacted only in its
//! encoded forms: raw, it cannot be told from ordinary words.

use base64::Engine as _;
use std::borrow::Cow;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// The shortest secret (in characters) redacted in its raw and escaped forms; shorter ones
/// (`admin`, `kibana`, `elastic`) would turn host names, package names and feature states
/// into `[redacted]`, so only their long encoded forms (the `Basic` pair) are.
pub(crate) const SHORTEST_REDACTED: usize = 8;

/// The secret variables set to a value shorter than [`SHORTEST_REDACTED`], for the warning
/// at start.
pub(crate) fn short_secrets() -> Vec<String> {
    credential_variables()
        .into_iter()
        .filter(|(k, v)| is_secret(k) && v.chars().count() < SHORTEST_REDACTED)
        .map(|(k, _)| shown_name(&k))
        .collect()
}

/// Suffixes of the variables that hold secrets (`RIPCORD_GCE_ACCESS_TOKEN` and
/// `RIPCORD_AZURE_ACCESS_TOKEN` among them; the AWS key id is redacted too, as it names the
/// account's identity).
const SECRET_SUFFIXES: &[&str] = &[
    "_API_KEY",
    "_PASSWORD",
    "_TOKEN",
    "_SECRET_ACCESS_KEY",
    "_ACCESS_KEY_ID",
];

/// The standard AWS credential variables ripcord signs platform requests with.
const AWS_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Every `RIPCORD_*` credential variable set (non-empty), with its value cleaned. Inside a
/// fleet target's [`Scope`], the variables its inventory entry maps onto those names instead.
fn credential_variables() -> Vec<(String, String)> {
    if let Ok(mapped) = SCOPE.try_with(|scope| {
        scope
            .mapped
            .iter()
            .map(|m| (m.name.clone(), m.value.clone()))
            .collect::<Vec<_>>()
    }) {
        return mapped;
    }
    process_credential_variables()
}

fn process_credential_variables() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| {
            (k.starts_with("RIPCORD_") && is_credential(k)) || AWS_VARIABLES.contains(&k.as_str())
        })
        .map(|(k, v)| (k, clean(&v).to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn is_credential(name: &str) -> bool {
    is_secret(name) || name.ends_with("_USERNAME")
}

fn is_secret(name: &str) -> bool {
    SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// A credential as read: one trailing line ending dropped (`$(cat key-file)` from a file saved
/// on Windows, a Kubernetes secret written with `echo`), nothing else changed.
pub(crate) fn clean(raw: &str) -> &str {
    raw.trim_end_matches(['\n', '\r'])
}

/// Why a credential variable cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadCredential {
    pub(crate) variable: String,
    pub(crate) why: &'static str,
}

/// Checks every `RIPCORD_*` credential variable before anything is sent: a value that cannot
/// travel in an HTTP header would otherwise be dropped and the requests sent unauthenticated.
pub(crate) fn check_environment() -> Result<(), BadCredential> {
    for (variable, value) in credential_variables() {
        let why = if value.chars().any(char::is_control) {
            Some("holds a control character (a line break inside it?)")
        } else if is_secret(&variable) && variable.ends_with("_API_KEY") && !value.is_ascii() {
            Some("is not ASCII (an API key is the base64 form Elasticsearch prints)")
        } else if variable.ends_with("_USERNAME") && value.contains(':') {
            Some("holds a colon, which HTTP basic authentication cannot carry in a user name")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(BadCredential { variable, why });
        }
    }
    Ok(())
}

/// The first secret variable set for `service` (`RIPCORD_<service>_API_KEY`, `_PASSWORD`,
/// `_TOKEN`), by the name the user set it under.
pub(crate) fn configured(service: &str) -> Option<String> {
    let prefix = format!("RIPCORD_{service}_");
    credential_variables()
        .into_iter()
        .map(|(k, _)| k)
        .find(|k| k.starts_with(&prefix) && is_secret(k))
        .map(|k| shown_name(&k))
}

/// A credential variable's value by its single-target name (`RIPCORD_ES_API_KEY`), cleaned,
/// if set and not empty. Inside a fleet target's [`Scope`] only what its inventory entry maps
/// counts: the process's own `RIPCORD_*` credentials must not reach every target of a fleet.
pub(crate) fn lookup(name: &str) -> Option<String> {
    let value = match SCOPE.try_with(|scope| {
        scope
            .mapped
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value.clone())
    }) {
        Ok(mapped) => mapped,
        Err(_) => std::env::var(name).ok(),
    };
    value
        .map(|v| clean(&v).to_string())
        .filter(|v| !v.is_empty())
}

/// The name a user knows a credential variable by: in a fleet target's [`Scope`], the variable
/// its inventory entry names (`LOGS_PROD_ES_API_KEY`), so hints, bundles and the plan's
/// commands (`$LOGS_PROD_ES_API_KEY`) speak of what is actually set.
pub(crate) fn shown_name(name: &str) -> String {
    SCOPE
        .try_with(|scope| {
            scope
                .mapped
                .iter()
                .find(|m| m.name == name)
                .map(|m| m.variable.clone())
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| name.to_string())
}

/// Whether a facts bundle may name `variable` as the credential of `service` in the plan's
/// commands: ripcord's own variables for it (`RIPCORD_ES_*` for `es`; `RIPCORD_KIBANA_*`, or
/// `RIPCORD_ES_*` it falls back to, for `kibana`), or, in a fleet target, one its inventory
/// entry names. A bundle naming any other (`AWS_SECRET_ACCESS_KEY` for Elasticsearch) would
/// make a pasted command send that variable to the bundle's URL.
pub(crate) fn recordable(service: &str, variable: &str) -> bool {
    let own = |prefix: &str| {
        ["API_KEY", "USERNAME", "PASSWORD"]
            .iter()
            .any(|k| variable == format!("RIPCORD_{prefix}_{k}"))
    };
    let known = match service {
        "es" => own("ES"),
        "kibana" => own("KIBANA") || own("ES"),
        "ghes" => own("GHES"),
        "gce" => variable == "RIPCORD_GCE_ACCESS_TOKEN",
        "azure" => variable == "RIPCORD_AZURE_ACCESS_TOKEN",
        "aws" => AWS_VARIABLES.contains(&variable),
        _ => false,
    };
    known
        || SCOPE
            .try_with(|scope| scope.declared.iter().any(|d| d == variable))
            .unwrap_or(false)
}

/// What to set when a service asks for credentials: `single_target` (the `RIPCORD_*`
/// variables) outside a fleet, the inventory entry's `credentials` inside one.
pub(crate) fn credentials_hint(single_target: &str) -> String {
    SCOPE
        .try_with(|scope| scope.hint.clone())
        .unwrap_or_else(|_| single_target.to_string())
}

/// One fleet target's credentials: its inventory entry's variables mapped onto the
/// single-target names the collectors read. Set for the target's future only (a task-local,
/// not the process environment, which concurrent targets share).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    mapped: Vec<Mapped>,
    hint: String,
    /// Every variable the inventory entry names, set or not.
    declared: Vec<String>,
}

#[derive(Debug, Clone)]
struct Mapped {
    /// The single-target name, e.g. `RIPCORD_ES_API_KEY`.
    name: String,
    /// The variable the inventory names, e.g. `LOGS_PROD_ES_API_KEY`.
    variable: String,
    value: String,
}

impl Scope {
    /// `pairs` are (single-target name, inventory variable); a variable unset or empty maps
    /// to nothing, so the target runs unauthenticated and the 401 hint says what to set.
    /// `hint` names the inventory entry, for that hint.
    pub(crate) fn new(pairs: &[(String, String)], hint: String) -> Self {
        let mapped = pairs
            .iter()
            .filter_map(|(name, variable)| {
                let value = std::env::var(variable).ok()?;
                let value = clean(&value).to_string();
                (!value.is_empty()).then(|| Mapped {
                    name: name.clone(),
                    variable: variable.clone(),
                    value,
                })
            })
            .collect();
        let declared = pairs.iter().map(|(_, variable)| variable.clone()).collect();
        Self {
            mapped,
            hint,
            declared,
        }
    }

    /// The secrets it holds, for [`register`].
    pub(crate) fn secrets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.mapped
            .iter()
            .map(|m| (m.name.as_str(), m.value.as_str()))
    }

    /// Runs `future` with these credentials.
    pub(crate) async fn run<F: Future>(self, future: F) -> F::Output {
        SCOPE.scope(std::sync::Arc::new(self), future).await
    }
}

tokio::task_local! {
    static SCOPE: std::sync::Arc<Scope>;
}

/// Credentials read from variables named outside `RIPCORD_*` (a fleet inventory's), by their
/// single-target name, so [`Redactor::from_env`] removes them from every output too.
static REGISTERED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Adds credentials to what every output is redacted of, for the rest of the process.
pub(crate) fn register<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let mut registered = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    for (name, value) in secrets {
        registered.push((name.to_string(), value.to_string()));
    }
}

/// Removes every configured secret from text.
#[derive(Debug, Default, Clone)]
pub(crate) struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    needles: Vec<String>,
}

impl Redactor {
    /// The secrets of the current environment, in every form they may come back in.
    pub(crate) fn from_env() -> Self {
        let mut variables = process_credential_variables();
        variables.extend(
            REGISTERED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned(),
        );
        let users: Vec<&str> = variables
            .iter()
            .filter(|(k, _)| k.ends_with("_USERNAME"))
            .map(|(_, v)| v.as_str())
            // GHES's root site administrator authenticates as `api_key`.
            .chain(["api_key"])
            .collect();
        let mut raw: Vec<String> = Vec::new();
        for (name, value) in variables.iter().filter(|(k, _)| is_secret(k)) {
            if value.chars().count() >= SHORTEST_REDACTED {
                raw.push(value.clone());
            }
            if name.ends_with("_PASSWORD") {
                for user in &users {
                    raw.push(basic(user, value));
                }
            }
            if name.ends_with("_API_KEY")
                && let Some(decoded) = decoded_api_key(value)
            {
                raw.push(decoded);
            }
        }
        Self::of(raw)
    }

    /// A redactor for these secrets (and their escaped forms); one shorter than
    /// [`SHORTEST_REDACTED`] is left out.
    pub(crate) fn of(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut needles: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.chars().count() >= SHORTEST_REDACTED)
            .flat_map(|s| forms(&s))
            .collect();
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Self { needles }
    }

    /// Whether there is nothing to redact.
    pub(crate) fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `value` with every secret replaced in its strings and map keys. It is serialized once
    /// into a sink that only looks for the secrets (nothing is kept: a 170 MB bundle costs no
    /// memory); only when one is found is it rewritten, through a JSON tree.
    ///
    /// It fails closed: a value that cannot be rewritten is replaced by its default (nothing
    /// collected), never kept with a secret in it.
    pub(crate) fn redact_serde<T: serde::Serialize + serde::de::DeserializeOwned + Default>(
        &self,
        value: T,
    ) -> T {
        if self.is_empty() {
            return value;
        }
        // In the serialized text a string's secret is JSON-escaped once more (`"` → `\"`).
        let escaped: Vec<String> = self
            .needles
            .iter()
            .flat_map(|n| {
                let json = serde_json::to_string(n).unwrap_or_default();
                let json = json
                    .get(1..json.len().saturating_sub(1))
                    .unwrap_or_default();
                [n.clone(), json.to_string()]
            })
            .filter(|n| !n.is_empty())
            .collect();
        let mut finder = Finder {
            needles: &escaped,
            tail: Vec::new(),
            found: false,
        };
        match serde_json::to_writer(&mut finder, &value) {
            Ok(()) if !finder.found => return value,
            _ => {}
        }
        let Ok(mut tree) = serde_json::to_value(&value) else {
            return T::default();
        };
        self.redact_value(&mut tree);
        serde_json::from_value(tree).unwrap_or_default()
    }

    /// Replaces every secret in the strings and keys of a JSON tree.
    pub(crate) fn redact_value(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                if let Cow::Owned(clean) = self.redact(s) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.redact_value(&mut item);
                    map.insert(self.redact(&key).into_owned(), item);
                }
            }
            _ => {}
        }
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub(crate) fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = Cow::Owned(out.replace(needle.as_str(), REDACTED));
            }
        }
        out
    }
}

/// A sink that looks for the secrets in what is written to it, across write boundaries.
struct Finder<'n> {
    needles: &'n [String],
    /// The last bytes written, as long as the longest secret less one.
    tail: Vec<u8>,
    found: bool,
}

impl std::io::Write for Finder<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.found {
            return Ok(buf.len());
        }
        let longest = self.needles.iter().map(String::len).max().unwrap_or(0);
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(buf);
        self.found = self
            .needles
            .iter()
            .any(|n| memchr::memmem::find(&window, n.as_bytes()).is_some());
        let keep = longest.saturating_sub(1).min(window.len());
        self.tail = window.split_off(window.len() - keep);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The text of a file a diagnostic quotes (a bundle, an inventory, a rule or waiver file),
/// safe to show: the user info of every URL (`https://user:pass@host`) and every configured
/// secret masked with `*`, byte for byte, so the diagnostic's spans still point at the right
/// place.
pub(crate) fn snippet_safe(text: &str) -> String {
    let mut out = mask_userinfo(text).into_bytes();
    let bytes = text.as_bytes();
    for needle in &Redactor::from_env().needles {
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&bytes[from..], needle.as_bytes()) {
            mask(&mut out, from + i, from + i + needle.len());
            from += i + needle.len();
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// `text` with the user info of every URL in it masked with `*`, byte for byte. The user info
/// runs from `://` to the last `@` before the next space, quote or line end — also when the
/// URL does not parse (a password holding `/`, `#` or `?`): masking a path with an `@` in it
/// too is the safe mistake.
pub(crate) fn mask_userinfo(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&bytes[from..], b"://") {
        let start = from + i + 3;
        let end = bytes[start..]
            .iter()
            .position(|b| b"\"' \t\r\n<>`".contains(b))
            .map_or(bytes.len(), |p| start + p);
        if let Some(at) = bytes[start..end].iter().rposition(|b| *b == b'@') {
            mask(&mut out, start, start + at);
        }
        from = end.max(start);
    }
    String::from_utf8(out).unwrap_or_else(|_| "*".repeat(text.len()))
}

/// `*` over `out[start..end]`, keeping UTF-8 valid (every byte of a masked character is one
/// `*`, so the length in bytes does not change).
fn mask(out: &mut [u8], start: usize, end: usize) {
    for b in &mut out[start..end] {
        *b = b'*';
    }
}

/// The base64 `user:password` of an HTTP basic `Authorization` header.
fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// The `id:api_key` pair an Elasticsearch API key's encoded form stands for.
fn decoded_api_key(encoded: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    (text.contains(':') && !text.chars().any(char::is_control)).then_some(text)
}

/// A secret as it appears raw and after each escaping ripcord's outputs apply.
fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(secret)
        .to_string();
    let xml = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    let percent: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let markdown = crate::base::text::markdown_inline(secret);
    let visible = crate::base::text::visible(secret);
    vec![
        secret.to_string(),
        json,
        xml,
        percent.clone(),
        percent.replace('+', "%20"),
        markdown,
        visible,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_redacted() {
        let r = Redactor::of(["p\"a<s&s-2".to_string(), basic("elastic", "hunter2")]);
        for text in [
            "x p\"a<s&s-2 y",
            "x p\\\"a<s&s-2 y",
            "x p&quot;a&lt;s&amp;s-2 y",
            "Basic ZWxhc3RpYzpodW50ZXIy",
        ] {
            let out = r.redact(text);
            assert!(out.contains(REDACTED), "{text} -> {out}");
            assert!(!out.contains("a<s") && !out.contains("ZWxhc3RpYzpodW50ZXIy"));
        }
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn short_secrets_are_not_redacted_raw() {
        let r = Redactor::of(["kibana".to_string(), basic("elastic", "kibana")]);
        assert_eq!(r.redact("systemctl stop kibana"), "systemctl stop kibana");
        assert!(r.redact("Basic ZWxhc3RpYzpraWJhbmE=").contains(REDACTED));
    }

    #[test]
    fn values_are_redacted_only_where_a_secret_is() {
        let r = Redactor::of(["s3cr3t-password".to_string()]);
        let clean = serde_json::json!({"a": ["x", {"b": "y"}]});
        assert_eq!(r.redact_serde(clean.clone()), clean);
        let echoed = serde_json::json!({"reason": "bad s3cr3t-password", "s3cr3t-password": 1});
        assert_eq!(
            r.redact_serde(echoed),
            serde_json::json!({"reason": "bad [redacted]", "[redacted]": 1})
        );
    }

    #[test]
    fn escaped_secrets_are_found_in_strings() {
        let r = Redactor::of(["p\"ssw0rd-long".to_string(), "a|b-long-secret".to_string()]);
        let echoed = vec![
            r#"proxy echoed {"password":"p\"ssw0rd-long"}"#.to_string(),
            "table a\\|b-long-secret".to_string(),
        ];
        let clean = r.redact_serde(echoed);
        assert!(clean.iter().all(|s| s.contains(REDACTED)), "{clean:?}");
    }

    #[test]
    fn snippets_keep_their_length() {
        let text = "es = \"http://user:s3cr3tpw@es:9200\"\nkibana = \"https://kb:5601\"";
        let safe = snippet_safe(text);
        assert_eq!(safe.len(), text.len());
        assert!(
            !safe.contains("s3cr3tpw") && !safe.contains("user:"),
            "{safe}"
        );
        assert!(safe.contains("http://*************@es:9200") && safe.contains("https://kb:5601"));
        // A password with `/` makes the URL unparsable: masked all the same.
        let text = "es = \"https://admin:pa/ss-s3cr3t@es:9200\"";
        assert_eq!(
            snippet_safe(text),
            "es = \"https://******************@es:9200\""
        );
    }

    #[test]
    fn line_endings_are_cleaned_only_at_the_end() {
        assert_eq!(clean("key\r\n"), "key");
        assert_eq!(clean("ke\ny"), "ke\ny");
    }

    #[test]
    fn api_keys_decode_to_their_pair() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("id1:secret2");
        assert_eq!(decoded_api_key(&encoded).as_deref(), Some("id1:secret2"));
        assert_eq!(decoded_api_key("not base64!"), None);
    }
}
