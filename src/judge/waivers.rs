//! Waivers (`--waivers FILE`): a reasoned, owned, dated exception to a rule for the targets
//! whose name matches a glob. A failure a waiver matches becomes `waived`, shown with its
//! reason and owner and counted in `summary.waived`, never dropped; a waiver past its expiry
//! date no longer applies, and the report says so. This replaces forking a rule file to
//! change its severity, which hides the exception from every report.
//!
//! ```toml
//! [[waiver]]
//! rule = "es-deprecations"
//! target = "logs-*"        # glob over the target's name (ES cluster name, GHES host)
//! reason = "ILM setting removed in the maintenance window of 2026-12-02"
//! owner = "platform-team@example.com"
//! expires = 2026-12-31     # a TOML date; expired from the day after (UTC)
//! ```

use crate::base::usage::Usage;
use crate::judge::ruleset::RuleSet;
use serde::Deserialize;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The largest waivers file read: a few hundred waivers fit in a fraction of it.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    rule: Spanned<String>,
    target: Spanned<String>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    expires: Spanned<toml::value::Datetime>,
}

/// One waiver, checked.
#[derive(Debug, Clone)]
pub(crate) struct Waiver {
    pub(crate) rule: String,
    /// The glob as written.
    pub(crate) target: String,
    matcher: globset::GlobMatcher,
    pub(crate) reason: String,
    pub(crate) owner: String,
    /// The last day it applies (UTC).
    pub(crate) expires: jiff::civil::Date,
}

impl Waiver {
    /// Whether it is about `target_name` (case-insensitive: host names are).
    pub(crate) fn covers(&self, target_name: &str) -> bool {
        self.matcher.is_match(target_name)
    }

    /// Whether it has expired on `now`: it applies through its expiry date, UTC.
    pub(crate) fn expired(&self, now: jiff::Timestamp) -> bool {
        now.to_zoned(jiff::tz::TimeZone::UTC).date() > self.expires
    }
}

/// One problem in a waivers file: exit 2, pointing at the file, line and column.
pub(crate) type WaiverFileError = crate::base::file_problem::FileProblem;

/// Why `--waivers` cannot be used: the file cannot be read, or a problem at a line of it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WaiverError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Unreadable(#[from] Usage),
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] Box<WaiverFileError>),
}

/// Reads and checks a waivers file. Every waiver needs all five fields, non-empty; `rule`
/// must name a rule of this run (a typo would waive nothing, silently); `target` must be a
/// valid glob; `expires` a date.
pub(crate) fn load(path: &Path, rules: &RuleSet) -> Result<Vec<Waiver>, WaiverError> {
    let shown = path.display().to_string();
    let bytes = crate::base::files::read_regular(path, MAX_FILE_BYTES).map_err(|e| {
        Usage::new(
            format!("--waivers {shown}: cannot read it: {e}"),
            Some("give the path of a TOML file of [[waiver]] tables"),
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
    Ok(parse(&shown, &text, rules)?)
}

fn parse(path: &str, text: &str, rules: &RuleSet) -> Result<Vec<Waiver>, Box<WaiverFileError>> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        problem(
            path,
            text,
            e.span().unwrap_or(0..0),
            e.message().trim().to_string(),
            Some(FORMAT_HELP.into()),
        )
    })?;
    raw.waiver
        .into_iter()
        .map(|w| check(path, text, w.into_inner(), rules))
        .collect()
}

const FORMAT_HELP: &str = "each [[waiver]] needs rule, target, reason, owner and expires (a date, e.g. 2026-12-31); see README \"In CI\"";

fn check(
    path: &str,
    text: &str,
    raw: RawWaiver,
    rules: &RuleSet,
) -> Result<Waiver, Box<WaiverFileError>> {
    let fail = |span: Range<usize>, message: String, help: Option<String>| {
        problem(path, text, span, message, help)
    };
    for (name, field) in [
        ("rule", &raw.rule),
        ("target", &raw.target),
        ("reason", &raw.reason),
        ("owner", &raw.owner),
    ] {
        if field.get_ref().trim().is_empty() {
            return Err(fail(
                field.span(),
                format!("{name} is empty"),
                Some(format!(
                    "a waiver says what it waives, where, why and who owns it: give {name}"
                )),
            ));
        }
    }
    let rule = raw.rule.get_ref().trim().to_string();
    if rules.get(&rule).is_none() {
        let help = match rules.closest(&rule) {
            Some(id) => format!("did you mean {id:?}? `ripcord rules list` shows every rule"),
            None => "`ripcord rules list` shows every rule".into(),
        };
        return Err(fail(
            raw.rule.span(),
            format!("rule: no rule {rule:?}"),
            Some(help),
        ));
    }
    let target = raw.target.get_ref().trim().to_string();
    let matcher = globset::GlobBuilder::new(&target)
        .case_insensitive(true)
        .literal_separator(false)
        .build()
        .map_err(|e| {
            fail(
                raw.target.span(),
                format!("target: not a glob: {}", e.kind()),
                Some("e.g. \"logs-*\", \"ghe.example.com\" or \"*\"".into()),
            )
        })?
        .compile_matcher();
    let datetime = raw.expires.get_ref();
    let expires = match (datetime.date, datetime.time, datetime.offset) {
        (Some(d), None, None) => {
            jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()
        }
        _ => None,
    }
    .ok_or_else(|| {
        fail(
            raw.expires.span(),
            format!("expires: {datetime} is not a date"),
            Some("a TOML date without quotes, e.g. expires = 2026-12-31".into()),
        )
    })?;
    Ok(Waiver {
        rule,
        target,
        matcher,
        reason: raw.reason.into_inner().trim().to_string(),
        owner: raw.owner.into_inner().trim().to_string(),
        expires,
    })
}

fn problem(
    path: &str,
    text: &str,
    span: Range<usize>,
    message: String,
    help: Option<String>,
) -> Box<WaiverFileError> {
    Box::new(WaiverFileError::at(
        "ripcord::waivers::invalid",
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

    fn rules() -> RuleSet {
        crate::run::load_rules(None).expect("built-in rules")
    }

    const GOOD: &str = r#"
[[waiver]]
rule = "es-deprecations"
target = "logs-*"
reason = "ILM setting removed in the maintenance window of 2026-12-02"
owner = "platform-team@example.com"
expires = 2026-12-31
"#;

    #[test]
    fn a_waiver_covers_its_targets_until_the_end_of_its_day() {
        let w = parse("w.toml", GOOD, &rules()).expect("valid");
        assert_eq!(w.len(), 1);
        assert!(w[0].covers("logs-prod"));
        assert!(w[0].covers("LOGS-prod"));
        assert!(!w[0].covers("metrics-prod"));
        let at = |s: &str| s.parse::<jiff::Timestamp>().expect("time");
        assert!(!w[0].expired(at("2026-12-31T23:59:59Z")));
        assert!(w[0].expired(at("2027-01-01T00:00:00Z")));
    }

    #[test]
    fn a_missing_field_names_the_waiver_line() {
        let text = GOOD.replace("owner = \"platform-team@example.com\"\n", "");
        let e = parse("w.toml", &text, &rules()).expect_err("owner missing");
        assert!(e.message.contains("owner"), "{}", e.message);
        assert_eq!((e.path.as_str(), e.line), ("w.toml", 2));
    }

    #[test]
    fn bad_values_point_at_themselves() {
        for (from, to, field, line) in [
            ("es-deprecations", "es-deprecation", "did you mean", 3),
            ("\"logs-*\"", "\"logs-[\"", "not a glob", 4),
            ("2026-12-31", "2026-12-31T00:00:00Z", "not a date", 7),
            ("2026-12-31", "\"2026-12-31\"", "expires", 7),
            (
                "\"platform-team@example.com\"",
                "\" \"",
                "owner is empty",
                6,
            ),
            ("owner =", "owners =", "unknown field", 6),
        ] {
            let e = parse("w.toml", &GOOD.replace(from, to), &rules())
                .expect_err(&format!("{from} → {to}"));
            let all = format!("{} {:?}", e.message, e.help);
            assert!(all.contains(field), "{from} → {to}: {all}");
            assert_eq!(e.line, line, "{from} → {to}: {all}");
        }
    }
}
