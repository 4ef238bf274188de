//! Plain enums whose values the command line spells (formats, `--color`, `--fail-on`): their
//! names live with them, so renderers and contracts need no CLI library; the CLI maps each to
//! its parser (`cli::values`).

/// A closed set of values, each with the name a flag takes.
pub trait Named: Copy + 'static {
    /// Every value, in the order `--help` lists them.
    const ALL: &'static [Self];
    /// The name a flag takes (`junit`, `auto`).
    fn name(self) -> &'static str;
    /// What `--help` says of this value, if anything.
    fn help(self) -> Option<&'static str> {
        None
    }
    /// The value named `name`, ignoring ASCII case.
    fn named(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }
}
