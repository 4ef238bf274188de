//! Text from servers and bundles made safe to show: control characters escaped visibly, long
//! strings cut. Every report passes through `output::text`'s `for_display` (table, Markdown,
//! JUnit) or `for_json` before it is rendered.
//!
//! Why here and not at collection: the JSON report and the bundle keep what the server said
//! (escaped by JSON itself), while a terminal would obey an ESC sequence, a Markdown renderer
//! would start a heading at a server's newline, and a 10 MB unbroken token would take the
//! table layout minutes.

/// Longest string shown in a table, Markdown or JUnit (the JSON report keeps more): the
/// longest documented Elasticsearch reason (a disabled repository's, ~600 characters) fits.
pub(crate) const DISPLAY_CHARS: usize = 1000;

/// Longest string kept in the JSON report (plan commands are never cut: a cut command is a
/// different command).
pub(crate) const JSON_CHARS: usize = 64 * 1024;

/// `text` with control characters (and the bidirectional overrides that reorder what a
/// terminal shows) written as visible escapes: ESC becomes `\u{1b}`, CR `\r`, NUL `\0`. Line
/// feeds and tabs are kept; [`one_line`] escapes those too.
pub(crate) fn visible(text: &str) -> String {
    escape(text, |c| c == '\n' || c == '\t')
}

/// [`visible`], line feeds and tabs included: for text that must stay on its line.
pub(crate) fn one_line(text: &str) -> String {
    escape(text, |_| false)
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> String {
    if !text.chars().any(|c| needs_escape(c) && !keep(c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) || keep(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            other => out.push_str(&format!("\\u{{{:x}}}", u32::from(other))),
        }
    }
    out
}

/// C0 and C1 controls, DEL, and the Unicode bidirectional controls.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` cut to `max` characters, saying how much was left out.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let rest = text[end..].chars().count();
            format!("{}… ({rest} more characters)", &text[..end])
        }
    }
}

/// Text inside a Markdown table cell or list item: on one line, `|` escaped.
pub(crate) fn markdown_inline(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(visible("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(visible("a\rb\0c\nd"), "a\\rb\\0c\nd");
        assert_eq!(one_line("x\n# heading"), "x\\n# heading");
        assert_eq!(visible("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(visible("héllo ✓"), "héllo ✓");
    }

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut("ééééé", 3), "ééé… (2 more characters)");
        assert_eq!(cut("abc", 3), "abc");
        let long = "x".repeat(1_000_000);
        assert!(cut(&long, DISPLAY_CHARS).len() < DISPLAY_CHARS + 40);
    }
}
