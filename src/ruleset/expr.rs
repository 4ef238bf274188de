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
}

/// The names the CEL standard library and macros provide.
const BUILTIN_FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "max",
    "min",
    "type",
    "dyn",
    "bytes",
    "@in",
    "@not_strictly_false",
];

/// The types an expression's variables and members have, as the checker sees them. The rule
/// loader implements it over a product's JSON Schema.
pub(crate) trait Types {
    type Ty: Clone;
    /// Anything goes (a literal, a function result, a member below an open map).
    fn unknown(&self) -> Self::Ty;
    /// A free variable's type, or `None` when no such variable exists.
    fn variable(&self, name: &str) -> Option<Self::Ty>;
    /// A member of `ty`, or the members that do exist.
    fn member(&self, ty: &Self::Ty, field: &str) -> Result<Self::Ty, Vec<String>>;
    /// What iterating over `ty` binds: a list's element (anything goes for a map's key).
    fn element(&self, ty: &Self::Ty) -> Self::Ty;
    /// A list of `ty` (what `filter` and `map` produce).
    fn list_of(&self, ty: &Self::Ty) -> Self::Ty;
}

/// Something an expression names that does not exist, with where it is in the expression
/// source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Problem {
    Variable {
        name: String,
        at: Range<usize>,
    },
    Function {
        name: String,
        at: Range<usize>,
    },
    Member {
        /// The path up to and including the member, e.g. `es.nodes[].verison`.
        path: String,
        known: Vec<String>,
        at: Range<usize>,
    },
}

/// The deepest bracket nesting an expression may have. The parser and the evaluator recurse
/// per level; real rules nest a handful deep, so this refuses only hostile or broken files,
/// with a clear error instead of a stack overflow.
const MAX_NESTING: usize = 32;
/// The longest expression, in bytes: long chains recurse too.
const MAX_LENGTH: usize = 16 * 1024;

/// Refuses what would recurse too deeply, at the position that goes too far.
fn check_size(source: &str) -> Result<(), ParseError> {
    let at = |offset: usize, message: String| {
        let before = &source[..source.floor_char_boundary(offset)];
        ParseError {
            line: before.matches('\n').count() + 1,
            // Same convention as the parser's positions (see `load::CEL_COLUMN_BIAS`).
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 2,
            message,
        }
    };
    if source.len() > MAX_LENGTH {
        return Err(at(
            MAX_LENGTH,
            format!("expression longer than {MAX_LENGTH} bytes"),
        ));
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in source.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(at(
                            i,
                            format!("brackets nested more than {MAX_NESTING} deep"),
                        ));
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    Ok(())
}

/// The deepest an expression tree may be. Evaluation recurses once per level (a chain of
/// 8,000 `+` overflows even a 256 MiB stack in a debug build); the built-in rules stay under
/// 20 levels.
const MAX_DEPTH: usize = 200;

/// Refuses an expression tree deeper than [`MAX_DEPTH`], at its deepest node. Walked with an
/// explicit stack: the check must not itself recurse.
fn check_depth(program: &Program, source: &str) -> Result<(), ParseError> {
    let mut stack = vec![(program.expression(), 1usize)];
    while let Some((e, level)) = stack.pop() {
        if level > MAX_DEPTH {
            let offset = program
                .source_info()
                .offset_for(e.id)
                .map_or(0, |(start, _)| start as usize);
            let before = &source[..source.floor_char_boundary(offset.min(source.len()))];
            return Err(ParseError {
                line: before.matches('\n').count() + 1,
                // Same convention as the parser's positions (see `load::CEL_COLUMN_BIAS`).
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 2,
                message: format!(
                    "expression nested more than {MAX_DEPTH} levels deep (long operator chains count too)"
                ),
            });
        }
        stack.extend(children(e).into_iter().map(|c| (c, level + 1)));
    }
    Ok(())
}

impl Expr {
    /// Compiles `source`; the first parse error carries its position.
    pub(crate) fn compile(source: &str) -> Result<Self, ParseError> {
        check_size(source)?;
        match Program::compile(source) {
            Ok(program) => {
                check_depth(&program, source)?;
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

/// Variables bound for evaluation: the root holds the facts (converted once per run) and the
/// function library; a child adds a rule's `params` without copying the root.
pub(crate) struct Scope<'p> {
    context: Context<'p, 'static>,
}

impl Scope<'static> {
    /// A root scope with our functions and `vars` converted to CEL values.
    pub(crate) fn root(vars: Vec<(String, serde_json::Value)>) -> Self {
        let mut context = Context::default();
        register(&mut context);
        let mut interner = Interner::default();
        for (name, value) in vars {
            context.add_variable_from_value(name, interner.convert(&value));
        }
        Self { context }
    }
}

impl Scope<'_> {
    /// A child scope with `vars` added.
    pub(crate) fn child(&self, vars: Vec<(String, serde_json::Value)>) -> Scope<'_> {
        let mut context = self.context.new_inner_scope();
        let mut interner = Interner::default();
        for (name, value) in vars {
            context.add_variable_from_value(name, interner.convert(&value));
        }
        Scope { context }
    }
}

/// Registers the function library. `add_function` only fails on a clash with a standard
/// library name; ours have none, and a unit test would catch a new one.
fn register(context: &mut Context<'_, '_>) {
    fn fail(name: &'static str) -> impl Fn(crate::version::VersionError) -> ExecutionError {
        move |e| ExecutionError::function_error(name, e.to_string())
    }
    for &(name, f) in functions::UNARY_INT {
        let _ = context.add_function(name, move |a: Arc<String>| f(&a).map_err(fail(name)));
    }
    for &(name, f) in functions::UNARY_BOOL {
        let _ = context.add_function(name, move |a: Arc<String>| f(&a).map_err(fail(name)));
    }
    for &(name, f) in functions::BINARY_INT {
        let _ = context.add_function(name, move |a: Arc<String>, b: Arc<String>| {
            f(&a, &b).map_err(fail(name))
        });
    }
    for &(name, f) in functions::BINARY_BOOL {
        let _ = context.add_function(name, move |a: Arc<String>, b: Arc<String>| {
            f(&a, &b).map_err(fail(name))
        });
    }
}

/// Collects the member paths read from free variables, tracking comprehension variables.
fn collect_paths(e: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    match &e.expr {
        Ast::Ident(name) => {
            if !name.starts_with('@') && !bound.contains(name) {
                out.insert(name.clone());
            }
        }
        Ast::Select(sel) => match dotted(e) {
            Some((root, path)) if !bound.contains(&root) && !root.starts_with('@') => {
                out.insert(path);
            }
            _ => collect_paths(&sel.operand, bound, out),
        },
        Ast::Comprehension(c) => {
            collect_paths(&c.iter_range, bound, out);
            collect_paths(&c.accu_init, bound, out);
            let depth = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                collect_paths(part, bound, out);
            }
            bound.truncate(depth);
        }
        _ => children(e)
            .into_iter()
            .for_each(|c| collect_paths(c, bound, out)),
    }
}

/// The direct sub-expressions of calls, lists, maps and structs.
fn children(e: &IdedExpr) -> Vec<&IdedExpr> {
    match &e.expr {
        Ast::Call(call) => call
            .target
            .as_deref()
            .into_iter()
            .chain(call.args.iter())
            .collect(),
        Ast::List(list) => list.elements.iter().collect(),
        Ast::Map(map) => map
            .entries
            .iter()
            .flat_map(|entry| match &entry.expr {
                EntryExpr::StructField(f) => vec![&f.value],
                EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
            })
            .collect(),
        Ast::Struct(s) => s
            .entries
            .iter()
            .filter_map(|entry| match &entry.expr {
                EntryExpr::StructField(f) => Some(&f.value),
                EntryExpr::MapEntry(_) => None,
            })
            .collect(),
        Ast::Select(sel) => vec![&sel.operand],
        Ast::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => vec![],
    }
}

/// `a.b.c` → (`a`, `a.b.c`) when the whole chain is identifiers and selects.
fn dotted(e: &IdedExpr) -> Option<(String, String)> {
    match &e.expr {
        Ast::Ident(name) => Some((name.clone(), name.clone())),
        Ast::Select(sel) if !sel.test => {
            let (root, path) = dotted(&sel.operand)?;
            Some((root, format!("{path}.{}", sel.field)))
        }
        Ast::Select(sel) => dotted(&sel.operand),
        _ => None,
    }
}

/// Types an expression bottom-up, reporting what does not exist.
struct Checker<'a, T: Types> {
    types: &'a T,
    known_functions: &'a [&'a str],
    program: &'a Program,
    source: &'a str,
    /// Comprehension variables in scope, innermost last, with their type and path text.
    bound: Vec<(String, (T::Ty, String))>,
    problems: Vec<Problem>,
}

impl<T: Types> Checker<'_, T> {
    /// The byte range of node `e` in the source, narrowed to `needle` inside it (the node of
    /// `a.b` may cover its operand too); a search of the whole source only when the parser
    /// kept no position.
    fn at(&self, e: &IdedExpr, needle: &str) -> Range<usize> {
        let len = self.source.len();
        if let Some((a, b)) = self.program.source_info().offset_for(e.id) {
            let start = self.source.floor_char_boundary((a as usize).min(len));
            let stop = self
                .source
                .ceil_char_boundary((b as usize).max(a as usize + 1).min(len));
            if let Some(i) = self.source.get(start..stop).and_then(|w| w.rfind(needle)) {
                return start + i..start + i + needle.len();
            }
        }
        match self.source.find(needle) {
            Some(i) => i..i + needle.len(),
            None => 0..len.min(1),
        }
    }

    fn unknown(&self) -> (T::Ty, String) {
        (self.types.unknown(), String::new())
    }

    /// The type and path text of `e`.
    fn ty(&mut self, e: &IdedExpr) -> (T::Ty, String) {
        match &e.expr {
            Ast::Ident(name) => {
                if let Some((_, t)) = self.bound.iter().rev().find(|(n, _)| n == name) {
                    return t.clone();
                }
                if name.starts_with('@') {
                    return self.unknown();
                }
                match self.types.variable(name) {
                    Some(t) => (t, name.clone()),
                    None => {
                        let at = self.at(e, name);
                        self.problems.push(Problem::Variable {
                            name: name.clone(),
                            at,
                        });
                        self.unknown()
                    }
                }
            }
            Ast::Select(sel) => {
                let (operand, path) = self.ty(&sel.operand);
                let shown = if path.is_empty() {
                    sel.field.clone()
                } else {
                    format!("{path}.{}", sel.field)
                };
                match self.types.member(&operand, &sel.field) {
                    Ok(t) if !sel.test => (t, shown),
                    Ok(_) => self.unknown(),
                    Err(known) => {
                        let at = self.at(e, &sel.field);
                        self.problems.push(Problem::Member {
                            path: shown,
                            known,
                            at,
                        });
                        self.unknown()
                    }
                }
            }
            Ast::Comprehension(c) => {
                let (range, path) = self.ty(&c.iter_range);
                self.ty(&c.accu_init);
                let depth = self.bound.len();
                let element = (self.types.element(&range), format!("{path}[]"));
                self.bound.push((c.iter_var.clone(), element));
                if let Some(v2) = &c.iter_var2 {
                    let u = self.unknown();
                    self.bound.push((v2.clone(), u));
                }
                let u = self.unknown();
                self.bound.push((c.accu_var.clone(), u));
                self.ty(&c.loop_cond);
                self.ty(&c.loop_step);
                self.ty(&c.result);
                // `filter` and `map` append `[x]` to an empty list: the result is a list of x.
                let appended =
                    appended_element(c.accu_init.expr.clone(), &c.loop_step, &c.accu_var);
                let result = match appended {
                    Some(x) => {
                        // `x` was checked with the step; typing it again must not repeat that.
                        let checked = self.problems.len();
                        let (t, p) = self.ty(x);
                        self.problems.truncate(checked);
                        (self.types.list_of(&t), p.trim_end_matches("[]").to_string())
                    }
                    None => self.unknown(),
                };
                self.bound.truncate(depth);
                result
            }
            Ast::Call(call) => {
                let name = call.func_name.as_str();
                let known = BUILTIN_FUNCTIONS.contains(&name)
                    || self.known_functions.contains(&name)
                    || name.starts_with('_')
                    || name.starts_with('@')
                    || name == "!_";
                if !known {
                    let at = self.at(e, name);
                    self.problems.push(Problem::Function {
                        name: name.to_string(),
                        at,
                    });
                }
                let target = call.target.as_deref().map(|t| self.ty(t));
                let args: Vec<(T::Ty, String)> = call.args.iter().map(|a| self.ty(a)).collect();
                // Indexing a list (`nodes[0]`) yields its element.
                match (name, target, args.first()) {
                    ("_[_]", None, Some((list, path))) => {
                        (self.types.element(list), format!("{path}[]"))
                    }
                    _ => self.unknown(),
                }
            }
            _ => {
                for child in children(e) {
                    self.ty(child);
                }
                self.unknown()
            }
        }
    }
}

/// In a comprehension over an empty-list accumulator, the `x` of `accu + [x]` in its step.
fn appended_element<'e>(init: Ast, step: &'e IdedExpr, accu: &str) -> Option<&'e IdedExpr> {
    let Ast::List(init) = init else { return None };
    if !init.elements.is_empty() {
        return None;
    }
    find_append(step, accu)
}

fn find_append<'e>(e: &'e IdedExpr, accu: &str) -> Option<&'e IdedExpr> {
    if let Ast::Call(call) = &e.expr
        && call.func_name == "_+_"
        && let [first, second] = call.args.as_slice()
        && matches!(&first.expr, Ast::Ident(n) if n == accu)
        && let Ast::List(list) = &second.expr
        && let [x] = list.elements.as_slice()
    {
        return Some(x);
    }
    children(e).into_iter().find_map(|c| find_append(c, accu))
}

/// Shares map keys (field names repeat in every element of a listing) while converting.
#[derive(Default)]
struct Interner {
    keys: HashMap<String, Arc<String>>,
}

impl Interner {
    fn key(&mut self, k: &str) -> Arc<String> {
        if let Some(shared) = self.keys.get(k) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(k.to_string());
        self.keys.insert(k.to_string(), Arc::clone(&shared));
        shared
    }

    /// JSON → CEL. Integers stay signed so they compare with CEL int literals.
    fn convert(&mut self, v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
            serde_json::Value::Array(items) => {
                Value::List(Arc::new(items.iter().map(|i| self.convert(i)).collect()))
            }
            serde_json::Value::Object(map) => {
                let entries: HashMap<cel::objects::Key, Value> = map
                    .iter()
                    .map(|(k, v)| (cel::objects::Key::String(self.key(k)), self.convert(v)))
                    .collect();
                Value::Map(cel::objects::Map {
                    map: Arc::new(entries),
                })
            }
        }
    }
}

/// CEL → JSON, for evidence.
fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::String(s) => J::String(s.to_string()),
        Value::List(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut out: Vec<(String, J)> = m
                .map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        cel::objects::Key::String(s) => s.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, to_json(v))
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            J::Object(out.into_iter().collect())
        }
        other => J::String(format!("{other:?}")),
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
