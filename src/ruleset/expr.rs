//! The only module that touches the `cel` crate (pinned exactly in Cargo.toml).
//!
//! It compiles expressions, lists what they reference (free variables, dotted paths from
//! them, functions) for load-time checks, and evaluates them over JSON-shaped inputs with our
//! function library registered. Swapping the expression engine means rewriting this file only.

use super::functions;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use cel::{Context, ExecutionError, Program, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A compiled expression and its source text.
pub struct Expr {
    program: Program,
    pub source: String,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// A parse error with its 1-based line and column inside the expression text.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What an expression refers to, for validation before any evaluation.
#[derive(Debug, Default)]
pub struct References {
    /// Free variables (comprehension variables excluded).
    pub variables: BTreeSet<String>,
    /// Dotted member paths starting at a free variable, e.g. `derived.kibana_snapshot.version`.
    pub paths: BTreeSet<String>,
    pub functions: BTreeSet<String>,
}

/// The names the CEL standard library and macros provide.
pub const BUILTIN_FUNCTIONS: &[&str] = &[
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

impl Expr {
    /// Compiles `source`; the first parse error carries its position.
    pub fn compile(source: &str) -> Result<Self, ParseError> {
        match Program::compile(source) {
            Ok(program) => Ok(Self {
                program,
                source: source.to_string(),
            }),
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

    /// Variables, member paths and functions this expression uses.
    pub fn references(&self) -> References {
        let mut refs = References::default();
        walk(self.program.expression(), &mut Vec::new(), &mut refs);
        refs
    }

    /// Evaluates with `vars` bound; the result as JSON.
    pub fn eval(
        &self,
        vars: &BTreeMap<String, serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let mut ctx = Context::default();
        functions::register(&mut ctx);
        for (name, value) in vars {
            ctx.add_variable_from_value(name.clone(), to_cel(value));
        }
        let value = self.program.execute(&ctx).map_err(|e| describe(&e))?;
        Ok(to_json(&value))
    }

    /// Evaluates and requires a boolean.
    pub fn eval_bool(&self, vars: &BTreeMap<String, serde_json::Value>) -> Result<bool, String> {
        match self.eval(vars)? {
            serde_json::Value::Bool(b) => Ok(b),
            other => Err(format!("expression must be true or false, got {other}")),
        }
    }
}

fn describe(e: &ExecutionError) -> String {
    e.to_string()
}

/// Collects references, tracking comprehension variables as bound.
fn walk(e: &IdedExpr, bound: &mut Vec<String>, refs: &mut References) {
    match &e.expr {
        Ast::Ident(name) => {
            if !name.starts_with('@') && !bound.contains(name) {
                refs.variables.insert(name.clone());
            }
        }
        Ast::Select(_) => {
            if let Some((root, path)) = dotted(e) {
                if !bound.contains(&root) && !root.starts_with('@') {
                    refs.variables.insert(root);
                    refs.paths.insert(path);
                }
            } else if let Ast::Select(sel) = &e.expr {
                walk(&sel.operand, bound, refs);
            }
        }
        Ast::Call(call) => {
            refs.functions.insert(call.func_name.clone());
            if let Some(target) = &call.target {
                walk(target, bound, refs);
            }
            for arg in &call.args {
                walk(arg, bound, refs);
            }
        }
        Ast::Comprehension(c) => {
            walk(&c.iter_range, bound, refs);
            walk(&c.accu_init, bound, refs);
            let depth = bound.len();
            bound.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                bound.push(v2.clone());
            }
            bound.push(c.accu_var.clone());
            walk(&c.loop_cond, bound, refs);
            walk(&c.loop_step, bound, refs);
            walk(&c.result, bound, refs);
            bound.truncate(depth);
        }
        Ast::List(list) => list.elements.iter().for_each(|x| walk(x, bound, refs)),
        Ast::Map(map) => {
            for entry in &map.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => walk(&f.value, bound, refs),
                    EntryExpr::MapEntry(m) => {
                        walk(&m.key, bound, refs);
                        walk(&m.value, bound, refs);
                    }
                }
            }
        }
        Ast::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    walk(&f.value, bound, refs);
                }
            }
        }
        Ast::Literal(_) | Ast::Unspecified => {}
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

/// JSON → CEL. Integers stay signed so they compare with CEL int literals.
pub fn to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(to_cel).collect()))
        }
        serde_json::Value::Object(map) => {
            let entries: std::collections::HashMap<cel::objects::Key, Value> = map
                .iter()
                .map(|(k, v)| (cel::objects::Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(cel::objects::Map {
                map: Arc::new(entries),
            })
        }
    }
}

/// CEL → JSON, for evidence.
pub fn to_json(v: &Value) -> serde_json::Value {
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

    fn vars(json: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        json.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    #[test]
    fn evaluates_with_functions_and_macros() {
        let e = Expr::compile(
            "es.nodes.all(n, kibana_accepts_es(k, n.version)) && semver_cmp('8.10.0', '8.9.1') > 0",
        )
        .unwrap();
        let v = vars(
            serde_json::json!({"k": "8.17.3", "es": {"nodes": [{"version": "8.17.3"}, {"version": "8.18.0"}]}}),
        );
        assert!(e.eval_bool(&v).unwrap());
    }

    #[test]
    fn mixed_numbers_compare() {
        let e = Expr::compile("x.age <= p.max && x.n == 0").unwrap();
        let v = vars(serde_json::json!({"x": {"age": 1.5, "n": 0}, "p": {"max": 24}}));
        assert!(e.eval_bool(&v).unwrap());
    }

    #[test]
    fn function_errors_are_errors() {
        let e = Expr::compile("semver_cmp('abc', '1.0.0') == 0").unwrap();
        let err = e.eval_bool(&BTreeMap::new()).unwrap_err();
        assert!(err.contains("abc"), "{err}");
    }

    #[test]
    fn parse_errors_have_positions() {
        let err = Expr::compile("a &&\n  (b ||").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }

    #[test]
    fn references_skip_comprehension_vars() {
        let e =
            Expr::compile("es.nodes.all(n, n.version == derived.upgrade.to) && size(kibana) > 0")
                .unwrap();
        let r = e.references();
        assert_eq!(
            r.variables.iter().cloned().collect::<Vec<_>>(),
            vec!["derived", "es", "kibana"]
        );
        assert!(r.paths.contains("derived.upgrade.to"));
        assert!(r.paths.contains("es.nodes"));
        assert!(!r.paths.iter().any(|p| p.starts_with("n.")));
    }
}
