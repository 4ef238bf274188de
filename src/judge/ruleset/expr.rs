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
    let at = |offset: usize, message: String| ParseError::limit(source, offset, message);
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
            return Err(ParseError::limit(
                source,
                node_offset(program, e),
                format!(
                    "expression nested more than {MAX_DEPTH} levels deep (long operator chains count too)"
                ),
            ));
        }
        stack.extend(children(e).into_iter().map(|c| (c, level + 1)));
    }
    Ok(())
}

/// Where node `e` starts in the source, in bytes (0 when the parser kept no position).
fn node_offset(program: &Program, e: &IdedExpr) -> usize {
    program
        .source_info()
        .offset_for(e.id)
        .map_or(0, |(start, _)| usize::try_from(start).unwrap_or(0))
}

/// How many comprehensions (`all`, `exists`, `exists_one`, `filter`, `map`) may run inside
/// each other's loops. Each level multiplies the work by the length of its list; the
/// built-in rules use two levels, so three leaves room for a user rule and refuses only what
/// nobody needs (four nested loops over 100 items are already 100 million iterations). The
/// evaluation budget (see [`Expr::estimate`]) still judges what is allowed here by the
/// actual list sizes.
pub(crate) const MAX_LOOP_NESTING: usize = 3;

/// Refuses comprehensions nested deeper than [`MAX_LOOP_NESTING`], at the first one too deep.
///
/// Only the loop (condition and step) of a comprehension counts as inside it: its range,
/// initial value and result run once, so `xs.filter(…).map(…)` is one level, not two. Walked
/// with an explicit stack like [`check_depth`].
fn check_loop_nesting(program: &Program, source: &str) -> Result<(), ParseError> {
    let mut stack = vec![(program.expression(), 0usize)];
    while let Some((e, loops)) = stack.pop() {
        let Ast::Comprehension(c) = &e.expr else {
            stack.extend(children(e).into_iter().map(|child| (child, loops)));
            continue;
        };
        let inner = loops + 1;
        if inner > MAX_LOOP_NESTING {
            return Err(ParseError::limit(
                source,
                node_offset(program, e),
                format!(
                    "comprehensions (all, exists, filter, map, …) nested more than {MAX_LOOP_NESTING} deep: each level multiplies the work by its list's length"
                ),
            ));
        }
        stack.extend([(&c.iter_range, loops), (&c.accu_init, loops)]);
        stack.extend([(&c.loop_cond, inner), (&c.loop_step, inner)]);
        stack.push((&c.result, loops));
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
    fn fail(name: &'static str) -> impl Fn(crate::base::version::VersionError) -> ExecutionError {
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

/// What an expression may cost (see [`Expr::estimate`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Loop iterations, and elements compared by `in`, `==`, `!=` or copied by `+`.
    pub(crate) iterations: u64,
    /// Elements of the largest list built (the largest list literal, or what `map` and
    /// `filter` build, nested ones multiplied).
    pub(crate) elements: u64,
}

impl Cost {
    /// This, then `other`: iterations add up, the largest list is the larger one.
    pub(crate) fn then(self, other: Self) -> Self {
        Self {
            iterations: self.iterations.saturating_add(other.iterations),
            elements: self.elements.max(other.elements),
        }
    }
}

/// The lengths of the lists an expression may iterate, measured in the inputs (see
/// [`Expr::estimate`]).
pub(crate) trait ListSizes {
    /// The length of the longest list (or map) at `path`, a member path from a variable where
    /// `[]` stands for every element (`es.snapshots[].feature_states`); `None` when there is
    /// no list there.
    fn len(&self, path: &str) -> Option<u64>;
    /// The length of the longest list (or map) anywhere in the inputs.
    fn largest(&self) -> u64;
}

/// Walks an expression for [`Expr::estimate`], tracking what each comprehension variable
/// ranges over.
struct Estimator<'s> {
    sizes: &'s dyn ListSizes,
    /// Comprehension variables in scope, innermost last, with the path of what they are an
    /// element of (`None`: an element of a computed list, or an accumulator).
    bound: Vec<(String, Option<String>)>,
    /// Every path whose length was asked, in order.
    asked: Vec<String>,
}

impl<'s> Estimator<'s> {
    fn new(sizes: &'s dyn ListSizes) -> Self {
        Self {
            sizes,
            bound: Vec::new(),
            asked: Vec::new(),
        }
    }

    /// What `e` may cost, each evaluation of it.
    fn cost(&mut self, e: &IdedExpr) -> Cost {
        match &e.expr {
            Ast::Comprehension(c) => {
                let once = self.cost(&c.iter_range).then(self.cost(&c.accu_init));
                let items = self.len_or_largest(&c.iter_range);
                let element = self.path_of(&c.iter_range).map(|p| format!("{p}[]"));
                let depth = self.bound.len();
                self.bound.push((c.iter_var.clone(), element));
                if let Some(second) = &c.iter_var2 {
                    self.bound.push((second.clone(), None));
                }
                self.bound.push((c.accu_var.clone(), None));
                let pass = self.cost(&c.loop_cond).then(self.cost(&c.loop_step));
                let result = self.cost(&c.result);
                self.bound.truncate(depth);
                let built = if builds_a_list(c) {
                    items.saturating_mul(pass.elements.max(1))
                } else {
                    0
                };
                Cost {
                    iterations: items.saturating_mul(pass.iterations.saturating_add(1)),
                    // What one pass builds is dropped after it, unless appended (`built`).
                    elements: built.max(pass.elements),
                }
                .then(once)
                .then(result)
            }
            Ast::Call(call) => {
                let operands = self.cost_of_children(e);
                operands.then(Cost {
                    iterations: self.call_cost(call),
                    elements: 0,
                })
            }
            Ast::List(list) => self.cost_of_children(e).then(Cost {
                iterations: 0,
                elements: list.elements.len() as u64,
            }),
            _ => self.cost_of_children(e),
        }
    }

    fn cost_of_children(&mut self, e: &IdedExpr) -> Cost {
        children(e)
            .into_iter()
            .fold(Cost::default(), |sum, child| sum.then(self.cost(child)))
    }

    /// What the call itself costs beyond its operands: the operators that walk a whole list.
    fn call_cost(&mut self, call: &cel::common::ast::CallExpr) -> u64 {
        match (call.func_name.as_str(), call.args.as_slice()) {
            // Membership compares with every element; a list we cannot size may be any.
            ("@in", [_, list]) => self.len_or_largest(list),
            ("_==_" | "_!=_", [a, b]) => {
                let (a, b) = (self.len_of(a), self.len_of(b));
                a.unwrap_or(0).max(b.unwrap_or(0))
            }
            // `map` and `filter` append to their accumulator (`@result + [x]`) in place.
            ("_+_", [a, b]) if is_accumulator(a) || is_accumulator(b) => 0,
            ("_+_", [a, b]) => {
                let (a, b) = (self.len_of(a), self.len_of(b));
                a.unwrap_or(0).saturating_add(b.unwrap_or(0))
            }
            _ => 0,
        }
    }

    fn len_or_largest(&mut self, e: &IdedExpr) -> u64 {
        self.len_of(e).unwrap_or_else(|| self.sizes.largest())
    }

    /// The length of the list (or map) `e` evaluates to, where it can be told.
    fn len_of(&mut self, e: &IdedExpr) -> Option<u64> {
        match &e.expr {
            Ast::List(list) => Some(list.elements.len() as u64),
            Ast::Map(map) => Some(map.entries.len() as u64),
            // `map` and `filter` give at most one element per element of their range.
            Ast::Comprehension(c) if builds_a_list(c) => Some(self.len_or_largest(&c.iter_range)),
            Ast::Call(call) if call.func_name == "_+_" => {
                let lens: Vec<Option<u64>> = call.args.iter().map(|a| self.len_of(a)).collect();
                lens.iter().any(Option::is_some).then(|| {
                    lens.iter()
                        .flatten()
                        .fold(0u64, |sum, n| sum.saturating_add(*n))
                })
            }
            Ast::Call(call) if call.func_name == "_?_:_" => {
                let lens: Vec<Option<u64>> =
                    call.args.iter().skip(1).map(|a| self.len_of(a)).collect();
                lens.into_iter().flatten().max()
            }
            _ => {
                let path = self.path_of(e)?;
                let len = self.sizes.len(&path);
                self.asked.push(path);
                len
            }
        }
    }

    /// The member path `e` reads from a variable (`[]` for "an element of"), if it is one.
    fn path_of(&self, e: &IdedExpr) -> Option<String> {
        match &e.expr {
            Ast::Ident(name) => match self.bound.iter().rev().find(|(n, _)| n == name) {
                Some((_, path)) => path.clone(),
                None => (!name.starts_with('@')).then(|| name.clone()),
            },
            Ast::Select(sel) if !sel.test => self
                .path_of(&sel.operand)
                .map(|p| format!("{p}.{}", sel.field)),
            Ast::Call(call) if call.func_name == "_[_]" => call
                .args
                .first()
                .and_then(|list| self.path_of(list))
                .map(|p| format!("{p}[]")),
            // `filter` keeps elements of its range as they are.
            Ast::Comprehension(c) if keeps_its_elements(c) => self.path_of(&c.iter_range),
            _ => None,
        }
    }
}

/// Whether `e` is a comprehension's accumulator, which only macros name (`@result`).
fn is_accumulator(e: &IdedExpr) -> bool {
    matches!(&e.expr, Ast::Ident(name) if name.starts_with('@'))
}

/// Whether a comprehension builds a list (`map`, `filter`): an empty list it appends to.
fn builds_a_list(c: &cel::common::ast::ComprehensionExpr) -> bool {
    appended_element(c.accu_init.expr.clone(), &c.loop_step, &c.accu_var).is_some()
}

/// Whether a comprehension is a `filter`: what it appends is its own variable.
fn keeps_its_elements(c: &cel::common::ast::ComprehensionExpr) -> bool {
    appended_element(c.accu_init.expr.clone(), &c.loop_step, &c.accu_var)
        .is_some_and(|x| matches!(&x.expr, Ast::Ident(n) if *n == c.iter_var))
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
