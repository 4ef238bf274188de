//! The one place shell words are built. A plan's commands are [`Line`]s, and a `Line` can only
//! be made by [`sh!`]: a template that is a string literal (ripcord's own shell text) whose
//! `{}` holes take [`Part`]s — a [`Word`] (any value, quoted), a [`Name`] (a validated variable
//! name) or another `Line`. A string from a server, a bundle, an inventory or a flag therefore
//! cannot become shell syntax: it reaches a command only as a quoted word.
//!
//! Inside an `ssh` remote command the value is quoted twice: once in the remote [`Line`]
//! (for the appliance's shell), and the whole remote line once more as a [`Word`] (for the
//! operator's shell).
//!
//! A test (`tests/ripcord/shell_words.rs`) fails when a `Line` is made anywhere else, or a
//! `Part` is implemented outside this module.

use std::borrow::Cow;

/// A complete shell command (or a fragment of one), ripcord's text with every outside value
/// quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line(String);

impl Line {
    /// Made by [`sh!`] only: `template` is a string literal, every hole is a [`Part`].
    #[doc(hidden)]
    pub(crate) fn __fill(template: &'static str, parts: &[&dyn Part]) -> Self {
        let mut out = String::with_capacity(template.len() + parts.len() * 16);
        let mut pieces = template.split("{}");
        out.push_str(pieces.next().unwrap_or_default());
        let mut parts = parts.iter();
        for piece in pieces {
            if let Some(part) = parts.next() {
                out.push_str(&part.shell());
            }
            out.push_str(piece);
        }
        Self(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }

    /// Whether the command holds `needle` (ripcord's own text: a flag, a path).
    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.0.contains(needle)
    }

    pub(crate) fn starts_with(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

mod sealed {
    /// Only this module's types are parts: nothing else may fill a hole of a template.
    pub(crate) trait Sealed {}
}

/// What may fill a hole of a [`sh!`] template.
pub(crate) trait Part: sealed::Sealed {
    /// The shell text it stands for in the template.
    fn shell(&self) -> Cow<'_, str>;
}

/// One value as one shell word, quoted as needed (`shlex`); a value with a control character
/// (a line break, an escape) is written `$'…'` with escapes, so no command spans two lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word(String);

impl Word {
    /// Any value: after quoting it is exactly one word whose value is `value`.
    pub(crate) fn quote(value: &str) -> Self {
        if value.chars().any(needs_escape) {
            return Self(ansi_c(value));
        }
        match shlex::try_quote(value) {
            Ok(quoted) => Self(quoted.into_owned()),
            Err(_) => Self(ansi_c(value)),
        }
    }

    /// A whole command as one word: the remote command of an `ssh`, run by the far shell.
    pub(crate) fn line(line: &Line) -> Self {
        Self::quote(line.as_str())
    }

    /// A JSON document as one word (a request body).
    pub(crate) fn json(value: &serde_json::Value) -> Self {
        Self::quote(&value.to_string())
    }

    /// What the shell sees.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A shell variable name (`RIPCORD_ES_API_KEY`), checked: only letters, digits and `_`, not
/// starting with a digit, so it is safe bare, in `$NAME`, `${NAME}` and inside double quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name(String);

impl Name {
    pub(crate) fn new(name: &str) -> Option<Self> {
        is_variable_name(name).then(|| Self(name.to_string()))
    }
}

/// Whether `name` can name a shell variable.
pub(crate) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

impl sealed::Sealed for Word {}
impl Part for Word {
    fn shell(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

impl sealed::Sealed for Name {}
impl Part for Name {
    fn shell(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

impl sealed::Sealed for Line {}
impl Part for Line {
    fn shell(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

/// Characters a pasted command must not hold raw: control characters (C0, DEL, C1) and the
/// Unicode line and bidirectional controls that make a command read differently than it runs.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `$'…'` (bash, zsh, ksh): backslash and single quote escaped, every control character as
/// `\xHH` or `\uHHHH`.
fn ansi_c(value: &str) -> String {
    let mut out = String::from("$'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The number of `{}` holes in a template, for the compile-time check in [`sh!`].
#[doc(hidden)]
pub(crate) const fn holes(template: &str) -> usize {
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && bytes[i + 1] == b'}' {
            n += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    n
}

/// A shell command from a literal template and its parts: `sh!("ssh admin@{} -- {}", host,
/// remote)`. The template must be a string literal with one `{}` per part (checked when
/// compiling); everything else in it is ripcord's own shell text.
macro_rules! sh {
    ($template:literal $(, $part:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::model::plan::shell::holes($template) == <[&str]>::len(&[$(stringify!($part)),*]),
            "sh!: one hole per part"
        );
        $crate::model::plan::shell::Line::__fill(
            $template,
            &[$(&$part as &dyn $crate::model::plan::shell::Part),*],
        )
    }};
}
pub(crate) use sh;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_one_word() {
        assert_eq!(Word::quote("ghe-primary").as_str(), "ghe-primary");
        assert_eq!(Word::quote("").as_str(), "''");
        assert_eq!(
            Word::quote("a$(touch${IFS}pwned)").as_str(),
            "'a$(touch${IFS}pwned)'"
        );
        assert_eq!(Word::quote("it's").as_str(), "\"it's\"");
        assert_eq!(Word::quote("it's $x").as_str(), "\"it's \"'$x'");
        assert_eq!(Word::quote("a\nb").as_str(), "$'a\\x0ab'");
        assert_eq!(Word::quote("a'\\\u{1b}").as_str(), "$'a\\'\\\\\\x1b'");
        assert_eq!(Word::quote("\u{202e}x").as_str(), "$'\\u202ex'");
    }

    #[test]
    fn templates_fill_their_holes_in_order() {
        let host = Word::quote("h;x");
        let remote = sh!("ghe-repl-setup {} && ghe-repl-start", host);
        let line = sh!("ssh -p 122 admin@{} -- {}", host, Word::line(&remote));
        assert_eq!(
            line.as_str(),
            "ssh -p 122 admin@'h;x' -- \"ghe-repl-setup 'h;x' && ghe-repl-start\""
        );
        // No escapes: braces are text, only `{}` is a hole.
        assert_eq!(sh!("a '{\"b\":1}'").as_str(), "a '{\"b\":1}'");
        assert_eq!(holes("x {} y {}"), 2);
        let name = Name::new("RIPCORD_ES_API_KEY").map(|n| sh!("echo \"${}\"", n));
        assert_eq!(
            name.map(Line::into_string).as_deref(),
            Some("echo \"$RIPCORD_ES_API_KEY\"")
        );
        assert!(Name::new("X}$(id)").is_none());
        assert!(Name::new("1X").is_none());
    }
}
