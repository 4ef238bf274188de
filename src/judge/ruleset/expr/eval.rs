//! Evaluation: facts converted to CEL values once per run and only where a rule reads them
//! (interned), the function library registered, results turned back into JSON.

use super::*;

/// Variables bound for evaluation: the root holds the facts (converted once per run) and the
/// function library; a child adds a rule's `params` without copying the root.
pub(crate) struct Scope<'p> {
    pub(super) context: Context<'p, 'static>,
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
pub(super) fn register(context: &mut Context<'_, '_>) {
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

/// Shares map keys (field names repeat in every element of a listing) while converting.
#[derive(Default)]
pub(super) struct Interner {
    pub(super) keys: HashMap<String, Arc<String>>,
}

impl Interner {
    pub(super) fn key(&mut self, k: &str) -> Arc<String> {
        if let Some(shared) = self.keys.get(k) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(k.to_string());
        self.keys.insert(k.to_string(), Arc::clone(&shared));
        shared
    }

    /// JSON → CEL. Integers stay signed so they compare with CEL int literals.
    pub(super) fn convert(&mut self, v: &serde_json::Value) -> Value {
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
pub(super) fn to_json(v: &Value) -> serde_json::Value {
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
