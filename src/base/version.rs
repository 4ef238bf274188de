//! Lenient version parsing and Kibana's own Elasticsearch-compatibility rule.
//!
//! Vendors print versions loosely: `8.15`, `8.15.0-SNAPSHOT`, and since ES 8.11 sometimes a
//! range such as `8.11.0-8.11.4` (`ReleaseVersions.inferVersion`). We accept all of them, take
//! the lower bound of a range, and compare precisely with semver precedence. Anything else is an
//! error the caller turns into an `error` finding, never a panic.

use semver::Version;
use std::cmp::Ordering;

/// Why a version string could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparsable version {0:?}")]
pub struct VersionError(pub String);

/// Parses `8`, `8.15`, `8.15.3`, `8.15.0-SNAPSHOT`, `v8.15.3`, `8.11.0-8.11.4` (lower bound).
pub fn parse_lenient(raw: &str) -> Result<Version, VersionError> {
    let err = || VersionError(raw.to_string());
    let text = raw.trim();
    let text = text.strip_prefix('v').unwrap_or(text);
    if text.is_empty() {
        return Err(err());
    }
    // A range `A-B` where B is itself a version: keep the lower bound.
    let text = match text.split_once('-') {
        Some((low, high)) if looks_numeric_version(low) && looks_numeric_version(high) => low,
        _ => text,
    };
    let (core, rest) = match text.find(['-', '+']) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    if !looks_numeric_version(core) {
        return Err(err());
    }
    let mut parts: Vec<&str> = core.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    let normalized = format!("{}{}", parts.join("."), rest);
    Version::parse(&normalized).map_err(|_| err())
}

/// A version an operator gives (`--from`, `--to`, recorded in a bundle), normalised for the
/// commands it ends up in: `v8.17.3` → `8.17.3`. It must name one release — a package, an image
/// tag — so `MAJOR.MINOR.PATCH` with an optional pre-release (`9.0.0-rc1`); `3.17` names none.
pub fn release(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let text = text
        .strip_prefix('v')
        .or_else(|| text.strip_prefix('V'))
        .unwrap_or(text);
    let core = text.split(['-', '+']).next().unwrap_or_default();
    if core.split('.').count() != 3 || !looks_numeric_version(core) {
        return Err(if looks_numeric_version(core) {
            format!(
                "{raw:?} names no single release: give MAJOR.MINOR.PATCH (packages and images are named by the full version)"
            )
        } else {
            format!("{raw:?} is not a version")
        });
    }
    Version::parse(text)
        .map(|v| v.to_string())
        .map_err(|_| format!("{raw:?} is not a version"))
}

fn looks_numeric_version(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Compares two versions by semver precedence (build metadata ignored).
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(parse_lenient(a)?.cmp_precedence(&parse_lenient(b)?))
}

/// A total order for sorting: by semver precedence, unparsable strings last (by text), so
/// sorting never fails and never panics.
pub fn cmp_lenient(a: &str, b: &str) -> Ordering {
    match (parse_lenient(a), parse_lenient(b)) {
        (Ok(x), Ok(y)) => x.cmp_precedence(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// `major.minor.patch` without pre-release or build suffix, like JavaScript `semver.coerce`.
pub fn core(v: &str) -> Result<String, VersionError> {
    let v = parse_lenient(v)?;
    Ok(format!("{}.{}.{}", v.major, v.minor, v.patch))
}

/// Whether a Kibana release line also accepts the next Elasticsearch major.
///
/// Kibana adds this clause only on the last minor branch of a major: 5.6, 6.7/6.8, 7.17, and
/// the 8.x branch from 8.18 on (`// On 8.18: Accept the next major version of ES.`, elastic/kibana
/// `es_kibana_version_compatability.ts` @ 0b6f2bb0, which 8.19 was branched from; any 9.x minor).
/// `main` (9.x) has no such clause.
pub fn kibana_accepts_next_major(kibana: &Version) -> bool {
    matches!(
        (kibana.major, kibana.minor),
        (5, 6) | (6, 7..) | (7, 17) | (8, 18..)
    )
}

/// Kibana's `esVersionCompatibleWithKibana(es, kibana)`: same major and ES minor ≥ Kibana
/// minor (patch ignored), plus the next-major exception of the last minor branches. An ES
/// version that is not valid SemVer is incompatible, as in Kibana's current code ("ES is not
/// SemVer-compliant"); only an unparsable *Kibana* version is an error.
pub fn kibana_accepts_es(kibana: &str, es: &str) -> Result<bool, VersionError> {
    let accepts_next_major = kibana_accepts_next_major(&parse_lenient(kibana)?);
    es_compatible_with_kibana(es, kibana, accepts_next_major)
}

/// `esVersionCompatibleWithKibana` as the code of one Kibana branch has it: `next_major` is
/// whether that branch carries the next-major clause. Kibana's test files call it with
/// made-up versions (`1.0.0`, `0.0.0`), so the branch, not the version, decides the clause.
pub fn es_compatible_with_kibana(
    es: &str,
    kibana: &str,
    next_major: bool,
) -> Result<bool, VersionError> {
    let kibana = parse_lenient(kibana)?;
    let Ok(es) = parse_lenient(es) else {
        return Ok(false);
    };
    if es.major == kibana.major + 1 && next_major {
        return Ok(true);
    }
    if es.major != kibana.major {
        return Ok(false);
    }
    Ok(es.minor >= kibana.minor)
}

/// Kibana's `esVersionEqualsKibana`: equal after dropping pre-release and build suffixes.
pub fn same_release(a: &str, b: &str) -> Result<bool, VersionError> {
    Ok(core(a)? == core(b)?)
}

/// Whether the version carries a pre-release suffix (`-SNAPSHOT`, `-rc1`, `-beta1`).
pub fn is_prerelease(v: &str) -> Result<bool, VersionError> {
    Ok(!parse_lenient(v)?.pre.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_versions_are_normalised_and_complete() {
        assert_eq!(release("v8.17.3").as_deref(), Ok("8.17.3"));
        assert_eq!(release(" 8.17.3 ").as_deref(), Ok("8.17.3"));
        assert_eq!(release("9.0.0-rc1").as_deref(), Ok("9.0.0-rc1"));
        assert!(release("3.17").unwrap_err().contains("MAJOR.MINOR.PATCH"));
        assert!(release("8").is_err());
        assert!(release("latest").unwrap_err().contains("not a version"));
        assert!(release("8.17.3.1").is_err());
        assert!(release("08.1.2").is_err());
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(parse_lenient("8.15").unwrap(), Version::new(8, 15, 0));
        assert_eq!(parse_lenient("8").unwrap(), Version::new(8, 0, 0));
        assert_eq!(parse_lenient("v8.15.3").unwrap(), Version::new(8, 15, 3));
        assert_eq!(
            parse_lenient("8.11.0-8.11.4").unwrap(),
            Version::new(8, 11, 0)
        );
        assert_eq!(
            parse_lenient("8.15.0-SNAPSHOT").unwrap().pre.as_str(),
            "SNAPSHOT"
        );
        assert!(parse_lenient("615c621a8416c444941dc97b142a0122d5c878d0").is_err());
        assert!(parse_lenient("").is_err());
        assert!(parse_lenient("snapshot[123]").is_err());
        assert!(parse_lenient("8.x").is_err());
    }

    #[test]
    fn precedence_ignores_build_but_not_prerelease() {
        assert_eq!(compare("8.15.0+abc", "8.15.0").unwrap(), Ordering::Equal);
        assert_eq!(compare("8.15.0-rc1", "8.15.0").unwrap(), Ordering::Less);
        assert_eq!(compare("8.9.0", "8.10.0").unwrap(), Ordering::Less);
    }

    #[test]
    fn same_release_coerces() {
        assert!(same_release("5.1.0-SNAPSHOT", "5.1.0").unwrap());
        assert!(!same_release("5.1.1-Beta1", "5.1.0").unwrap());
    }

    #[test]
    fn next_major_table() {
        assert!(kibana_accepts_es("7.17.9", "8.0.0").unwrap());
        assert!(kibana_accepts_es("8.18.2", "9.0.0").unwrap());
        assert!(kibana_accepts_es("5.6.0", "6.8.0").unwrap());
        assert!(!kibana_accepts_es("8.17.3", "9.0.0").unwrap());
        assert!(!kibana_accepts_es("7.17.9", "9.0.0").unwrap());
        assert!(kibana_accepts_es("8.19.2", "9.0.0").unwrap());
        assert!(!kibana_accepts_es("9.0.0", "10.0.0").unwrap());
    }

    #[test]
    fn an_es_version_that_is_not_semver_is_incompatible() {
        assert_eq!(
            kibana_accepts_es("5.1.0", "615c621a8416c444941dc97b142a0122d5c878d0"),
            Ok(false)
        );
        assert!(kibana_accepts_es("not-a-version", "8.0.0").is_err());
    }
}
