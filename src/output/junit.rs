//! `--format junit`: one `<testsuite>` per target, one `<testcase>` per rule, valid against
//! the strict Apache Ant JUnit schema (and so Jenkins' `junit-10.xsd`, which is looser).
//!
//! The elements agree with the exit code: `<failure>` exactly for the failures that set it
//! (per `--fail-on`), `<error>` for the blockers that could not be verified (exit 3 when
//! nothing fails); every other non-passing finding is `<skipped/>`, visible in the CI widget
//! without failing the build, and listed with its message in `<system-out>`, beside the
//! verdict and the whole plan. The Ant schema is the strict one: `<testsuites>` carries no
//! attribute, each suite a `package` and an `id`, `timestamp` has no time zone, and a suite
//! always has `<properties>`, `<system-out>` and `<system-err>`.

use super::{target_line, write_collection_failures, write_preamble};
use crate::model::report::v1::{Finding, Outcome, Report, Weight};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::fmt::Write as _;

pub(super) fn render(r: &Report) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail; an error would only lose the document's tail.
    let _ = write_document(&mut w, r);
    let mut out = String::from_utf8_lossy(&w.into_inner()).into_owned();
    out.push('\n');
    out
}

/// A fleet: one suite per target, in the report's (name) order; a target that could not be
/// judged is a suite of one `<error>`.
pub(super) fn render_fleet(r: &crate::model::report::fleet_v1::FleetReport) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let _ = write_fleet(&mut w, r);
    let mut out = String::from_utf8_lossy(&w.into_inner()).into_owned();
    out.push('\n');
    out
}

fn write_fleet(
    w: &mut Writer<Vec<u8>>,
    r: &crate::model::report::fleet_v1::FleetReport,
) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("testsuites")))?;
    for (id, target) in r.targets.iter().enumerate() {
        match &target.report {
            Some(report) => write_suite(w, report, id)?,
            None => write_error_suite(w, target, r.generated_at, id)?,
        }
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

/// The suite of a fleet target with no report: one `<error>` saying why.
fn write_error_suite(
    w: &mut Writer<Vec<u8>>,
    t: &crate::model::report::fleet_v1::TargetResult,
    generated_at: jiff::Timestamp,
    id: usize,
) -> std::io::Result<()> {
    let package = format!("ripcord.{}.{}", t.product, t.mode);
    let error = t.error.as_deref().unwrap_or("could not be judged");
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute((
        "name",
        format!("ripcord {} {}: {}", t.mode, t.product, t.name).as_str(),
    ));
    suite.push_attribute(("package", package.as_str()));
    suite.push_attribute(("id", id.to_string().as_str()));
    suite.push_attribute((
        "timestamp",
        generated_at
            .strftime("%Y-%m-%dT%H:%M:%S")
            .to_string()
            .as_str(),
    ));
    suite.push_attribute(("hostname", token(&t.name).as_str()));
    for (name, value) in [
        ("tests", "1"),
        ("failures", "0"),
        ("errors", "1"),
        ("skipped", "0"),
        ("time", "0"),
    ] {
        suite.push_attribute((name, value));
    }
    w.write_event(Event::Start(suite))?;
    w.write_event(Event::Start(BytesStart::new("properties")))?;
    for (name, value) in [
        ("ripcord.target", t.name.clone()),
        ("ripcord.verdict", t.verdict.as_str().to_string()),
        ("ripcord.exit_code", t.exit_code.to_string()),
    ] {
        let mut p = BytesStart::new("property");
        p.push_attribute(("name", name));
        p.push_attribute(("value", value.as_str()));
        w.write_event(Event::Empty(p))?;
    }
    w.write_event(Event::End(BytesEnd::new("properties")))?;
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("name", "judge"));
    case.push_attribute((
        "classname",
        format!("{package}.{}", t.name.replace('.', "_")).as_str(),
    ));
    case.push_attribute(("time", "0"));
    w.write_event(Event::Start(case))?;
    let mut e = BytesStart::new("error");
    e.push_attribute(("type", "error"));
    e.push_attribute(("message", error));
    w.write_event(Event::Start(e))?;
    let body = match &t.hint {
        Some(h) => format!("{error}\n\nhint: {h}"),
        None => error.to_string(),
    };
    w.write_event(Event::Text(text(&body)))?;
    w.write_event(Event::End(BytesEnd::new("error")))?;
    w.write_event(Event::End(BytesEnd::new("testcase")))?;
    w.write_event(Event::Start(BytesStart::new("system-out")))?;
    w.write_event(Event::Text(text(&format!("ERROR: {body}\n"))))?;
    w.write_event(Event::End(BytesEnd::new("system-out")))?;
    w.write_event(Event::Empty(BytesStart::new("system-err")))?;
    w.write_event(Event::End(BytesEnd::new("testsuite")))
}

fn write_document(w: &mut Writer<Vec<u8>>, r: &Report) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("testsuites")))?;
    write_suite(w, r, 0)?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

/// One target's suite (`id` counts suites from 0, as the schema asks).
fn write_suite(w: &mut Writer<Vec<u8>>, r: &Report, id: usize) -> std::io::Result<()> {
    let count = |weight: Weight| r.findings.iter().filter(|f| r.weight(f) == weight).count();
    let skipped = r
        .findings
        .iter()
        .filter(|f| matches!(r.weight(f), Weight::Shown | Weight::Waived))
        .count();
    let target = target_line(r);
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute((
        "name",
        format!("ripcord {} {}: {target}", r.mode, r.product).as_str(),
    ));
    suite.push_attribute(("package", package(r).as_str()));
    suite.push_attribute(("id", id.to_string().as_str()));
    suite.push_attribute((
        "timestamp",
        r.generated_at
            .strftime("%Y-%m-%dT%H:%M:%S")
            .to_string()
            .as_str(),
    ));
    suite.push_attribute(("hostname", hostname(r).as_str()));
    suite.push_attribute(("tests", r.findings.len().to_string().as_str()));
    suite.push_attribute(("failures", count(Weight::Fails).to_string().as_str()));
    suite.push_attribute(("errors", count(Weight::Unverified).to_string().as_str()));
    suite.push_attribute(("skipped", skipped.to_string().as_str()));
    suite.push_attribute(("time", "0"));
    w.write_event(Event::Start(suite))?;

    w.write_event(Event::Start(BytesStart::new("properties")))?;
    for (name, value) in properties(r) {
        let mut p = BytesStart::new("property");
        p.push_attribute(("name", name));
        p.push_attribute(("value", value.as_str()));
        w.write_event(Event::Empty(p))?;
    }
    w.write_event(Event::End(BytesEnd::new("properties")))?;

    // GitLab keys a test by class and name: the target's short name keeps the same rule on
    // two clusters apart (dots become `_`, so Jenkins does not read them as packages).
    let classname = format!("{}.{}", package(r), short_target(r).replace('.', "_"));
    for f in &r.findings {
        write_case(w, r, f, &classname)?;
    }

    w.write_event(Event::Start(BytesStart::new("system-out")))?;
    w.write_event(Event::Text(text(&system_out(r))))?;
    w.write_event(Event::End(BytesEnd::new("system-out")))?;
    w.write_event(Event::Empty(BytesStart::new("system-err")))?;
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

fn write_case(
    w: &mut Writer<Vec<u8>>,
    r: &Report,
    f: &Finding,
    classname: &str,
) -> std::io::Result<()> {
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("name", f.rule.as_str()));
    case.push_attribute(("classname", classname));
    case.push_attribute(("time", "0"));
    let element = match r.weight(f) {
        Weight::Passed => None,
        Weight::Fails => Some("failure"),
        Weight::Unverified => Some("error"),
        Weight::Shown | Weight::Waived => {
            w.write_event(Event::Start(case))?;
            // No attribute and no text: the strictest schemas allow nothing more.
            w.write_event(Event::Empty(BytesStart::new("skipped")))?;
            return w.write_event(Event::End(BytesEnd::new("testcase")));
        }
    };
    let Some(element) = element else {
        return w.write_event(Event::Empty(case));
    };
    w.write_event(Event::Start(case))?;
    let mut e = BytesStart::new(element);
    e.push_attribute((
        "type",
        format!("{}/{}", f.severity.as_str(), f.outcome.as_str()).as_str(),
    ));
    e.push_attribute(("message", f.message.as_str()));
    w.write_event(Event::Start(e))?;
    let text = format!(
        "{}\n\n{}\n\nremediation: {}\ndocs: {}",
        f.title, f.message, f.remediation, f.docs
    );
    w.write_event(Event::Text(self::text(&text)))?;
    w.write_event(Event::End(BytesEnd::new(element)))?;
    w.write_event(Event::End(BytesEnd::new("testcase")))
}

/// Element text escaped only where XML needs it (`<`, `>`, `&`): quotes stay quotes, so the
/// plan's commands read in a CI page exactly as they paste.
fn text(content: &str) -> BytesText<'static> {
    BytesText::from_escaped(quick_xml::escape::partial_escape(content).into_owned())
}

/// `ripcord.elastic.rollback`: what a suite is, the same for every target.
fn package(r: &Report) -> String {
    format!("ripcord.{}.{}", r.product, r.mode)
}

/// The target in one word: the cluster's name, the GHES host, else the host of its URL.
fn short_target(r: &Report) -> String {
    r.target
        .name
        .as_deref()
        .or(r.target.cluster_name.as_deref())
        .map(token)
        .unwrap_or_else(|| hostname(r))
        .replace(' ', "_")
}

/// The target's host: the system the checks ran against (the GHES primary, else the host of
/// the Elasticsearch URL), `localhost` when none is known.
fn hostname(r: &Report) -> String {
    if let Some(host) = &r.target.ghes_primary {
        return token(host);
    }
    r.source
        .endpoints
        .get("elasticsearch")
        .and_then(|v| v.as_str())
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .map_or_else(|| "localhost".to_string(), |h| token(&h))
}

/// Text as an XML Schema token: no line breaks or tabs, single spaces, never empty.
fn token(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        "unknown".to_string()
    } else {
        joined
    }
}

/// What a CI system shows beside the tests: the target, the verdict, the facts' age.
fn properties(r: &Report) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("ripcord.target", target_line(r)),
        ("ripcord.verdict", r.verdict.as_str().to_string()),
        ("ripcord.exit_code", r.exit_code.to_string()),
        ("ripcord.fail_on", r.fail_on.as_str().to_string()),
        ("ripcord.collected_at", r.source.collected_at.to_string()),
        ("ripcord.age_seconds", r.source.age_seconds.to_string()),
        ("ripcord.source", r.source.kind.clone()),
    ];
    if let Some(from) = &r.upgrade.from {
        p.push(("ripcord.from", from.clone()));
    }
    if let Some(to) = &r.upgrade.to {
        p.push(("ripcord.to", to.clone()));
    }
    if let Some(uuid) = &r.target.cluster_uuid {
        p.push(("ripcord.cluster_uuid", uuid.clone()));
    }
    p
}

/// The verdict, the target, the headline, the plan, what did not pass without failing, and
/// what could not be collected: the text the on-call engineer needs from a CI page.
fn system_out(r: &Report) -> String {
    let mut out = String::new();
    write_preamble(&mut out, r, false, None);
    super::table::write_plan(&mut out, &r.plan, None);
    let shown: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| r.weight(f) == Weight::Shown && f.outcome != Outcome::Skip)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(
            out,
            "\nNot passed, not gating (--fail-on {}):",
            r.fail_on.as_str()
        );
        for f in shown {
            let _ = writeln!(
                out,
                "  - {} {} ({}): {}",
                f.outcome.as_str().to_uppercase(),
                f.rule,
                f.severity.as_str(),
                f.message
            );
        }
    }
    let waived: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| r.weight(f) == Weight::Waived)
        .collect();
    if !waived.is_empty() {
        let _ = writeln!(out, "\nWaived (--waivers):");
        for f in waived {
            let _ = writeln!(
                out,
                "  - {} ({}): {}",
                f.rule,
                f.severity.as_str(),
                super::finding_message(f)
            );
        }
    }
    write_collection_failures(&mut out, r, None);
    out
}
