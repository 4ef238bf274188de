//! What an expression names, checked at load time against the product's input schema: every
//! variable, function and member path (through list macros too), each problem with its place.

use super::*;

/// The names the CEL standard library and macros provide.
pub(super) const BUILTIN_FUNCTIONS: &[&str] = &[
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

/// Collects the member paths read from free variables, tracking comprehension variables.
pub(super) fn collect_paths(e: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
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
pub(super) fn children(e: &IdedExpr) -> Vec<&IdedExpr> {
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
pub(super) fn dotted(e: &IdedExpr) -> Option<(String, String)> {
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
pub(super) struct Checker<'a, T: Types> {
    pub(super) types: &'a T,
    pub(super) known_functions: &'a [&'a str],
    pub(super) program: &'a Program,
    pub(super) source: &'a str,
    /// Comprehension variables in scope, innermost last, with their type and path text.
    pub(super) bound: Vec<(String, (T::Ty, String))>,
    pub(super) problems: Vec<Problem>,
}

impl<T: Types> Checker<'_, T> {
    /// The byte range of node `e` in the source, narrowed to `needle` inside it (the node of
    /// `a.b` may cover its operand too); a search of the whole source only when the parser
    /// kept no position.
    pub(super) fn at(&self, e: &IdedExpr, needle: &str) -> Range<usize> {
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

    pub(super) fn unknown(&self) -> (T::Ty, String) {
        (self.types.unknown(), String::new())
    }

    /// The type and path text of `e`.
    pub(super) fn ty(&mut self, e: &IdedExpr) -> (T::Ty, String) {
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
