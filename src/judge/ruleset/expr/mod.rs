//! The only module that touches the `cel` crate (pinned exactly in Cargo.toml).
//!
//! It compiles expressions, walks them for load-time checks (variables, functions, and every
//! member path typed through list macros), and evaluates them in scopes: the facts are
//! converted to CEL values once per run into a root scope, and each rule's `params` go into a
//! child scope of it. Swapping the expression engine means rewriting this file only.

use super::functions;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use cel::{Context, ExecutionError, Program, Value};
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

mod budget;
mod check;
mod eval;
mod limits;

pub(crate) use budget::*;
pub(crate) use check::*;
pub(crate) use eval::*;
pub(crate) use limits::*;

/// A compiled expression and its source text.
pub(crate) struct Expr {
    program: Program,
    pub(crate) source: String,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// A parse error with its 1-based line and column inside the expression text.
#[derive(Debug, Clone)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
    /// The text parses, but goes past one of the limits below (length, nesting, loops within
    /// loops): a rule author is told what is too much, not that the syntax is wrong.
    pub(crate) limit: bool,
}

impl ParseError {
    /// A limit error at byte `offset` of `source`, with the parser's position convention (see
    /// `load::CEL_COLUMN_BIAS`), so the loader maps both kinds to the file alike.
    fn limit(source: &str, offset: usize, message: String) -> Self {
        let before = &source[..source.floor_char_boundary(offset.min(source.len()))];
        Self {
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 2,
            message,
            limit: true,
        }
    }
}

impl Expr {
    /// Compiles `source`; the first parse error carries its position.
    pub(crate) fn compile(source: &str) -> Result<Self, ParseError> {
        check_size(source)?;
        match Program::compile(source) {
            Ok(program) => {
                check_depth(&program, source)?;
                check_loop_nesting(&program, source)?;
                Ok(Self {
                    program,
                    source: source.to_string(),
                })
            }
            Err(errors) => {
                let first = errors.errors.first();
                let (line, column) = first
                    .map(|e| (e.pos.0.max(1) as usize, e.pos.1.max(0) as usize + 1))
                    .unwrap_or((1, 1));
                let message = first
                    .map(|e| e.msg.clone())
                    .unwrap_or_else(|| errors.to_string());
                Err(ParseError {
                    line,
                    column,
                    message,
                    limit: false,
                })
            }
        }
    }

    /// The member paths this expression reads from free variables (`derived.upgrade.to`, or
    /// just `es` when it uses a variable whole), for binding only what rules read.
    pub(crate) fn paths(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        collect_paths(self.program.expression(), &mut Vec::new(), &mut out);
        out
    }

    /// Checks variables, functions and every member path against `types`.
    pub(crate) fn check<T: Types>(&self, types: &T, known_functions: &[&str]) -> Vec<Problem> {
        let mut checker = Checker {
            types,
            known_functions,
            program: &self.program,
            source: &self.source,
            bound: Vec::new(),
            problems: Vec::new(),
        };
        checker.ty(self.program.expression());
        let mut seen = std::collections::HashSet::new();
        checker.problems.retain(|p| seen.insert(p.clone()));
        checker.problems
    }

    /// What evaluating this expression may cost, estimated before running it: about how many
    /// loop iterations it takes, and how many elements the largest list it builds holds.
    ///
    /// A comprehension iterates the length of its list times what one pass of its loop
    /// costs, so nested loops multiply; `x in list` and list `==`, `!=`, `+` cost the list's
    /// length. A `map` or `filter` builds a list of up to one element per item, each as large
    /// as what it appends (a list built by an inner `map`, say), so nested builders multiply
    /// too: what they build is kept until the outer one is done.
    ///
    /// A list reached by a path (`es.snapshots`, or `s.feature_states` with `s` one of
    /// `es.snapshots`) counts the longest such list in `sizes`; a list the expression
    /// computes (a function's result, say) counts as the longest list of the inputs, so the
    /// estimate errs high, never low, for what it cannot see. The conditions of `all` and
    /// `exists` may stop a loop early: the estimate is of the worst case. Saturates at
    /// `u64::MAX`.
    pub(crate) fn estimate(&self, sizes: &dyn ListSizes) -> Cost {
        Estimator::new(sizes).cost(self.program.expression())
    }

    /// The paths whose list lengths [`Expr::estimate`] asks `sizes` for, so they can be
    /// measured in the inputs before these are converted to CEL values.
    pub(crate) fn sized_paths(&self) -> Vec<String> {
        struct Unmeasured;
        impl ListSizes for Unmeasured {
            fn len(&self, _: &str) -> Option<u64> {
                None
            }
            fn largest(&self) -> u64 {
                0
            }
        }
        let mut estimator = Estimator::new(&Unmeasured);
        estimator.cost(self.program.expression());
        estimator.asked
    }

    /// Evaluates in `scope`; the result as JSON.
    pub(crate) fn eval(&self, scope: &Scope<'_>) -> Result<serde_json::Value, String> {
        let value = self
            .program
            .execute(&scope.context)
            .map_err(|e| e.to_string())?;
        Ok(to_json(&value))
    }

    /// Evaluates and requires a boolean.
    pub(crate) fn eval_bool(&self, scope: &Scope<'_>) -> Result<bool, String> {
        match self.eval(scope)? {
            serde_json::Value::Bool(b) => Ok(b),
            other => Err(format!("expression must be true or false, got {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(json: serde_json::Value) -> Scope<'static> {
        let vars = json
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Scope::root(vars)
    }

    #[test]
    fn evaluates_with_functions_and_macros() {
        let e = Expr::compile(
            "es.nodes.all(n, kibana_accepts_es(k, n.version)) && semver_cmp('8.10.0', '8.9.1') > 0",
        )
        .unwrap();
        let s = scope(
            serde_json::json!({"k": "8.17.3", "es": {"nodes": [{"version": "8.17.3"}, {"version": "8.18.0"}]}}),
        );
        assert!(e.eval_bool(&s).unwrap());
    }

    #[test]
    fn child_scopes_see_the_root() {
        let root = scope(serde_json::json!({"x": {"age": 1.5, "n": 0}}));
        let child = root.child(vec![("p".into(), serde_json::json!({"max": 24}))]);
        let e = Expr::compile("x.age <= p.max && x.n == 0").unwrap();
        assert!(e.eval_bool(&child).unwrap());
    }

    #[test]
    fn functions_register_without_clash() {
        let mut context = Context::default();
        for name in functions::names() {
            assert!(
                context.add_function(name, |a: i64| a).is_ok(),
                "{name} clashes with the standard library"
            );
        }
    }

    #[test]
    fn every_function_is_callable() {
        let e = Expr::compile(
            "semver_major('8.1.2') == 8 && semver_minor('8.1.2') == 1 && semver_patch('8.1.2') == 2 \
             && is_prerelease('8.0.0-rc1') && same_release('8.1.2-SNAPSHOT', '8.1.2') \
             && kibana_accepts_es('8.1.0', '8.2.0') && semver_cmp('8.1.0', '8.2.0') == -1",
        )
        .unwrap();
        assert!(e.eval_bool(&scope(serde_json::json!({}))).unwrap());
    }

    #[test]
    fn function_errors_are_errors() {
        let e = Expr::compile("semver_cmp('abc', '1.0.0') == 0").unwrap();
        let err = e.eval_bool(&scope(serde_json::json!({}))).unwrap_err();
        assert!(err.contains("abc"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}true{}", "(".repeat(40), ")".repeat(40));
        let err = Expr::compile(&deep).unwrap_err();
        assert!(err.message.contains("nested more than 32"), "{err:?}");
        assert_eq!((err.line, err.column), (1, 34));
        // The parser recurses deeply per level in a debug build: as the loader does, parse
        // on a roomy stack.
        let fine = format!("{}true{}", "(".repeat(32), ")".repeat(32));
        let parsed = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || Expr::compile(&fine).is_ok())
            .unwrap()
            .join()
            .unwrap();
        assert!(parsed);
        assert!(Expr::compile("'((((((((((((((((((((((((((((((((((' == ''").is_ok());
        assert!(Expr::compile(&"a.b".repeat(10_000)).is_err());
    }

    #[test]
    fn long_operator_chains_are_refused() {
        let chain = vec!["1"; 300].join("+") + " > 0";
        let err = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || Expr::compile(&chain).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(err.message.contains("more than 200 levels"), "{err:?}");
        assert!(Expr::compile(&(vec!["1"; 50].join("+") + " > 0")).is_ok());
    }

    /// List lengths by path, and the longest list of the inputs.
    struct Fixed(&'static [(&'static str, u64)], u64);

    impl ListSizes for Fixed {
        fn len(&self, path: &str) -> Option<u64> {
            self.0.iter().find(|(p, _)| *p == path).map(|(_, n)| *n)
        }
        fn largest(&self) -> u64 {
            self.1
        }
    }

    const SIZES: Fixed = Fixed(
        &[
            ("es.snapshots", 1_000),
            ("es.snapshots[].feature_states", 3),
        ],
        5_000,
    );

    fn estimate(source: &str) -> u64 {
        Expr::compile(source).unwrap().estimate(&SIZES).iterations
    }

    fn built(source: &str) -> u64 {
        Expr::compile(source).unwrap().estimate(&SIZES).elements
    }

    #[test]
    fn nested_loops_multiply_and_sequential_loops_add() {
        assert_eq!(estimate("size(es.snapshots) > 0"), 0);
        assert_eq!(estimate("es.snapshots.all(a, true)"), 1_000);
        assert_eq!(
            estimate("es.snapshots.all(a, es.snapshots.exists(b, a == b))"),
            1_000 * (1 + 1_000)
        );
        assert_eq!(
            estimate("es.snapshots.all(a, true) && es.snapshots.exists(b, true)"),
            2_000
        );
        let triple = "es.snapshots.all(a, es.snapshots.all(b, es.snapshots.all(c, a != c)))";
        assert_eq!(estimate(triple), 1_000 * (1 + 1_000 * (1 + 1_000)));
    }

    #[test]
    fn a_loop_variable_keeps_the_path_it_ranges_over() {
        assert_eq!(
            estimate("es.snapshots.all(s, s.feature_states.all(f, true))"),
            1_000 * (1 + 3)
        );
        // `filter` keeps its elements, `map` does not; indexing gives an element.
        assert_eq!(
            estimate("es.snapshots.filter(s, true).map(s, s.feature_states.size())[0] > 0"),
            1_000 + 1_000
        );
        assert_eq!(
            estimate("es.snapshots.filter(s, true).all(s, s.feature_states.all(f, true))"),
            1_000 + 1_000 * (1 + 3)
        );
        assert_eq!(estimate("es.snapshots[0].feature_states.all(f, true)"), 3);
        let expr = Expr::compile("es.snapshots.all(s, s.feature_states.all(f, true))").unwrap();
        assert_eq!(
            expr.sized_paths(),
            vec!["es.snapshots", "es.snapshots[].feature_states"]
        );
    }

    #[test]
    fn a_computed_list_counts_as_the_longest_unless_it_can_be_told() {
        assert_eq!(estimate("[1, 2, 3].all(x, true)"), 3);
        assert_eq!(estimate("dyn(es.snapshots).all(x, true)"), 5_000);
        // A `map` result is as long as its range.
        assert_eq!(
            estimate("es.snapshots.map(s, s.snapshot).all(x, true)"),
            1_000 + 1_000
        );
        assert_eq!(estimate("(1 > 0 ? es.snapshots : []).all(x, true)"), 1_000);
        // An unknown path (no list measured there) counts as the longest too.
        assert_eq!(estimate("es.nodes.all(n, true)"), 5_000);
    }

    #[test]
    fn whole_list_operators_cost_the_list() {
        assert_eq!(
            estimate("es.snapshots.all(a, a in es.snapshots)"),
            1_000 * (1 + 1_000)
        );
        assert_eq!(estimate("es.snapshots.all(a, a in ['x'])"), 1_000 * 2);
        assert_eq!(estimate("es.snapshots == es.snapshots"), 1_000);
        assert_eq!(estimate("size(es.snapshots + es.snapshots) > 0"), 2_000);
        assert_eq!(estimate("'a' + 'b' == 'ab'"), 0);
    }

    #[test]
    fn the_estimate_saturates() {
        let deep = "es.snapshots.all(a, es.snapshots.all(b, es.snapshots.all(c, true)))";
        let huge = Fixed(&[("es.snapshots", u64::MAX / 2)], u64::MAX);
        let cost = Expr::compile(deep).unwrap().estimate(&huge);
        assert_eq!(cost.iterations, u64::MAX);
        let nest = "es.snapshots.map(a, es.snapshots.map(b, es.snapshots.map(c, c)))";
        assert_eq!(
            Expr::compile(nest).unwrap().estimate(&huge).elements,
            u64::MAX
        );
    }

    #[test]
    fn nested_list_builders_multiply_what_they_keep() {
        assert_eq!(built("es.snapshots.all(a, true)"), 0);
        assert_eq!(built("[1, 2, 3].size() > 0"), 3);
        assert_eq!(built("es.snapshots.map(s, s.snapshot).size() > 0"), 1_000);
        assert_eq!(built("es.snapshots.filter(s, true).size() > 0"), 1_000);
        assert_eq!(
            built("es.snapshots.map(a, es.snapshots.map(b, b)).size() > 0"),
            1_000 * 1_000
        );
        // An inner list dropped after each pass is not kept.
        assert_eq!(
            built("es.snapshots.all(a, es.snapshots.map(b, b).size() > 0)"),
            1_000
        );
        assert_eq!(
            built("es.snapshots.map(s, s.feature_states.map(f, [f, f]))[0].size() > 0"),
            1_000 * 3 * 2
        );
    }

    #[test]
    fn loops_nested_more_than_three_deep_are_refused() {
        let four = "a.all(w, b.all(x, c.all(y, d.exists(z, true))))";
        let err = Expr::compile(four).unwrap_err();
        assert!(err.limit, "{err:?}");
        assert!(err.message.contains("nested more than 3 deep"), "{err:?}");
        // The range, initial value and result of a loop are not inside it.
        assert!(Expr::compile("a.all(w, b.all(x, c.exists(y, true)))").is_ok());
        assert!(Expr::compile("a.filter(w, true).map(w, w).filter(w, true).all(w, true)").is_ok());
        assert!(Expr::compile("a.map(w, b.map(x, x)).all(v, v.all(x, x.all(y, true)))").is_ok());
    }

    #[test]
    fn parse_errors_have_positions() {
        let err = Expr::compile("a &&\n  (b ||").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }

    #[test]
    fn paths_skip_comprehension_vars() {
        let e =
            Expr::compile("es.nodes.all(n, n.version == derived.upgrade.to) && size(kibana) > 0")
                .unwrap();
        let paths: Vec<String> = e.paths().into_iter().collect();
        assert_eq!(paths, vec!["derived.upgrade.to", "es.nodes", "kibana"]);
    }
}
