//! Markdown that renders: every scenario's report is parsed by a CommonMark parser with GFM
//! tables (`pulldown-cmark`), and what a reader sees is checked: no raw HTML anywhere (it
//! would swallow `<primary-host>`), every plan command inside a code block exactly as JSON
//! has it, every step's text and host shown literally, a heading naming target, mode and time.

use crate::cli::offline;
use crate::common;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

/// What a reader of the rendered Markdown sees.
#[derive(Default)]
struct Rendered {
    /// Text of headings, one per heading.
    headings: Vec<String>,
    /// Every fenced code block's text.
    code_blocks: Vec<String>,
    /// All text outside code blocks (inline code included), concatenated with spaces.
    text: String,
    /// Raw HTML the parser found (must stay empty).
    html: Vec<String>,
    tables: usize,
}

fn render(markdown: &str) -> Rendered {
    let mut out = Rendered::default();
    let mut heading: Option<String> = None;
    let mut block: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => out.headings.extend(heading.take()),
            Event::Start(Tag::CodeBlock(kind)) => {
                assert!(
                    matches!(kind, CodeBlockKind::Fenced(_)),
                    "an indented code block: something was mis-indented"
                );
                block = Some(String::new());
            }
            Event::End(TagEnd::CodeBlock) => out.code_blocks.extend(block.take()),
            Event::Start(Tag::Table(_)) => out.tables += 1,
            Event::Html(h) | Event::InlineHtml(h) => out.html.push(h.to_string()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(b) = &mut block {
                    b.push_str(&t);
                } else {
                    if let Some(h) = &mut heading {
                        h.push_str(&t);
                    }
                    out.text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => out.text.push(' '),
            _ => out.text.push(' '),
        }
    }
    out
}

/// Every step of a plan and of its alternatives.
fn steps(plan: &Value) -> Vec<&Value> {
    let mut all: Vec<&Value> = plan["steps"].as_array().into_iter().flatten().collect();
    for alt in plan["alternatives"].as_array().into_iter().flatten() {
        all.extend(steps(alt));
    }
    all
}

#[test]
fn every_scenario_renders_as_it_reads() {
    for name in common::reported_scenarios() {
        let (md, err, _) = offline(&name, &["--format", "markdown", "--show-skipped"]);
        let (json, _, _) = offline(&name, &["--format", "json"]);
        let report: Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e} {err}"));
        let seen = render(&md);
        assert!(seen.html.is_empty(), "{name}: raw HTML {:?}", seen.html);
        // The heading names the mode, the product, the target and the collection time.
        let title = seen.headings.first().expect("a heading");
        let mode_product = format!(
            "ripcord {} {}",
            report["mode"].as_str().unwrap(),
            report["product"].as_str().unwrap()
        );
        assert!(title.starts_with(&mode_product), "{name}: {title}");
        let at = report["source"]["collected_at"]
            .as_str()
            .expect("collected_at");
        assert!(title.contains(&at[..16]), "{name}: {title} lacks {at}");
        for key in ["cluster_name", "ghes_primary"] {
            if let Some(t) = report["target"][key].as_str() {
                assert!(title.contains(t), "{name}: {title} lacks {t}");
            }
        }
        // Every command in a code block, exactly; every step's words as written.
        let blocks = seen.code_blocks.join("\n");
        for step in steps(&report["plan"]) {
            for command in step["commands"].as_array().into_iter().flatten() {
                let command = command.as_str().expect("command");
                for line in command.lines() {
                    assert!(
                        blocks.lines().any(|l| l == line),
                        "{name}: command line not in a code block as written: {line}"
                    );
                }
            }
            for key in ["title", "run_on"] {
                let words = step[key].as_str().expect("text");
                assert!(
                    seen.text.contains(words),
                    "{name}: {key} not shown as written: {words}"
                );
            }
        }
        assert_eq!(seen.tables, 1, "{name}: the findings table");
        for f in report["findings"].as_array().expect("findings") {
            let message = f["message"].as_str().expect("message");
            let shown: String = message.chars().take(200).collect();
            assert!(
                seen.text.contains(shown.replace('\n', " ").as_str()),
                "{name}: {shown}"
            );
        }
    }
}

/// Text that Markdown or HTML would take as syntax is shown as written.
#[test]
fn markup_in_messages_is_shown_literally() {
    let dir = tempfile::tempdir().expect("tmp");
    let message = "ssh admin@<primary-host> -- *now* _or_ `never` | [link](http://x) &amp; <b>bold</b> \\ # 1. ~~x~~";
    let rule = format!(
        r#"id = "zz-markup"
title = "Markup <in> the *title*"
product = "elastic"
modes = ["preflight", "rollback"]
severity = "info"
requires = []
expr = "true"

[message]
pass = {message:?}
fail = "never"

[docs]
summary = "s"
why = "w"
remediation = "r"
reference = "https://example.com"
"#
    );
    std::fs::write(dir.path().join("zz-markup.toml"), rule).expect("write");
    let rules = dir.path().to_str().expect("utf-8");
    let (md, err, code) = offline(
        "healthy-preflight",
        &["--format", "markdown", "--rules", rules],
    );
    assert_eq!(code, 0, "{err}");
    let seen = render(&md);
    assert!(seen.html.is_empty(), "raw HTML: {:?}", seen.html);
    assert!(seen.text.contains(message), "{}\n---\n{md}", seen.text);
}
