//! What an outside value may be before it names something in a command: a host, a version, a
//! snapshot, repository or index name, an identifier. Servers, bundles, inventories and flags
//! are checked against these when their facts are screened (each product's `screen`), so a
//! value that fails is a finding (`unknown`, naming the field and why) and never reaches a
//! plan. Quoting ([`crate::model::plan::shell`]) is the second guard: even a value that passed is a
//! quoted word in every command.

/// Why a value cannot name what it claims to.
pub(crate) type Invalid = String;

/// A host: an RFC 1123 host name (labels of 1–63 letters, digits and `-`, not starting or
/// ending with `-`; at most 253 characters) or an IPv4/IPv6 address.
pub(crate) fn hostname(value: &str) -> Result<(), Invalid> {
    if value.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let why = if value.is_empty() {
        Some("it is empty")
    } else if value.len() > 253 {
        Some("it is longer than 253 characters")
    } else if value.split('.').any(|label| {
        label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) {
        Some("only letters, digits, '-' and '.' between labels of 1 to 63 characters make one")
    } else {
        None
    };
    match why {
        Some(why) => Err(format!(
            "{} is not a host name (RFC 1123) or an IP address: {why}",
            shown(value)
        )),
        None => Ok(()),
    }
}

/// A version as vendors print it (`8.17.3`, `8.15.0-SNAPSHOT`, `v8.15.3`, `8.11.0-8.11.4`, or
/// a build hash a node reports): digits, letters, `.`, `-` and `+` only, at most 64. Whether it
/// reads as a version is the rules' judgement (Kibana counts an unreadable one incompatible);
/// what matters here is that it can be nothing but a word in a command.
pub(crate) fn version(value: &str) -> Result<(), Invalid> {
    let chars_ok = !value.is_empty()
        && value.len() <= 64
        && !value.starts_with('-')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
    if chars_ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a version (digits, letters, '.', '-' and '+')",
            shown(value)
        ))
    }
}

/// Characters Elasticsearch refuses in snapshot, repository and index names
/// (`Strings.INVALID_FILENAME_CHARS`, plus `#`).
const ES_INVALID: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#'];

/// An Elasticsearch snapshot name (`SnapshotsService.validate`): not empty, lowercase, not
/// starting with `_`, none of `\ / * ? " < > | , #` or a space; and no control character.
pub(crate) fn es_snapshot(value: &str) -> Result<(), Invalid> {
    es_name(value, "snapshot", true)
}

/// An Elasticsearch repository name (`RepositoriesService.validateRepositoryName`): not
/// empty, none of `\ / * ? " < > | , #` or a space; and no control character.
pub(crate) fn es_repository(value: &str) -> Result<(), Invalid> {
    es_name(value, "repository", false)
}

/// An Elasticsearch index or alias name (`MetadataCreateIndexService`): lowercase, not
/// starting with `_`, `-` or `+`, not `.` or `..`, none of `\ / * ? " < > | , # :` or a space,
/// at most 255 bytes; and no control character.
pub(crate) fn es_index(value: &str) -> Result<(), Invalid> {
    let why = if value == "." || value == ".." {
        Some("'.' and '..' are not index names")
    } else if value.starts_with(['_', '-', '+']) {
        Some("it starts with '_', '-' or '+'")
    } else if value.contains(':') {
        Some("it holds ':'")
    } else if value.len() > 255 {
        Some("it is longer than 255 bytes")
    } else {
        None
    };
    match why {
        Some(why) => Err(format!("{} is not an index name: {why}", shown(value))),
        None => es_name(value, "index", true),
    }
}

fn es_name(value: &str, what: &str, lowercase: bool) -> Result<(), Invalid> {
    let why = if value.is_empty() {
        Some("it is empty".to_string())
    } else if value == "." || value == ".." {
        // A path segment curl and servers collapse: `/_snapshot/../x` is `/x`.
        Some("'.' and '..' are path segments, not names".to_string())
    } else if value.chars().any(char::is_control) {
        Some("it holds a control character".to_string())
    } else if let Some(c) = value.chars().find(|c| ES_INVALID.contains(c)) {
        Some(format!("Elasticsearch refuses {c:?} in one"))
    } else if lowercase && value.starts_with('_') {
        Some("it starts with '_'".to_string())
    } else if lowercase && value.to_lowercase() != value {
        Some("it is not lowercase".to_string())
    } else if value.len() > 1024 {
        Some("it is longer than 1,024 bytes".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(format!("{} is not a {what} name: {why}", shown(value))),
        None => Ok(()),
    }
}

/// An identifier a vendor generates (a cluster UUID, a node id): letters, digits, `-` and `_`.
pub(crate) fn identifier(value: &str) -> Result<(), Invalid> {
    if !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(format!(
            "{} is not an identifier (letters, digits, '-' and '_')",
            shown(value)
        ))
    }
}

/// The value as a finding quotes it: escaped, and cut at 80 characters.
fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(80).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_addresses() {
        for ok in [
            "ghe-primary",
            "ghe.example.com",
            "10.0.0.1",
            "::1",
            "a",
            "x1-2.y",
        ] {
            assert!(hostname(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ghe-primary$(touch${IFS}pwned)",
            "a;b",
            "a`b`",
            "a&",
            "a\nb",
            "a b",
            "-oProxyCommand=x",
            "a'",
            "",
            "a..b",
            "x-",
        ] {
            assert!(hostname(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_and_names() {
        assert!(version("8.17.3").is_ok());
        assert!(version("8.15.0-SNAPSHOT").is_ok());
        assert!(version("8.11.0-8.11.4").is_ok());
        assert!(version("8.17.3;id").is_err());
        assert!(version("8.17.3 x").is_err());
        assert!(es_snapshot("nightly-2026.11.20-0130").is_ok());
        assert!(
            es_snapshot("snap'$(id)").is_ok(),
            "ES allows it: quoting guards it"
        );
        assert!(es_snapshot("a b").is_err());
        assert!(es_snapshot("A").is_err());
        assert!(es_snapshot("a\nb").is_err());
        assert!(es_repository("Backups").is_ok());
        assert!(es_repository("a/b").is_err());
        assert!(es_repository("..").is_err() && es_snapshot(".").is_err());
        assert!(es_index(".kibana_8.17.3_001").is_ok());
        assert!(es_index("a:b").is_err());
        assert!(identifier("5yJ0yQyYQ2a8Hx3jX_Aq-w").is_ok());
        assert!(identifier("x'").is_err());
    }
}
