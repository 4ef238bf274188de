//! What a rule of a product may read: the JSON Schema of the product's rule inputs, generated
//! from its Rust types with `schemars`, and the fact groups it may `require`.
//!
//! The schema comes from the very types that are serialised into the CEL variables, so a path
//! that loads is a path that exists, through lists and optional values alike, and a rule
//! naming another product's facts is refused at load time.

use super::expr::Types;
use schemars::JsonSchema;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A product's rule-input schema and fact groups.
#[derive(Debug, Clone)]
pub(crate) struct InputSchema {
    /// The root schema: one property per CEL variable, `$defs` for the types below.
    root: Value,
    pub(crate) groups: &'static [&'static str],
}

impl InputSchema {
    /// The schema of `T`, a struct with one field per CEL variable.
    pub(crate) fn of<T: JsonSchema>(groups: &'static [&'static str]) -> Self {
        let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        Self {
            root: generator.into_root_schema_for::<T>().to_value(),
            groups,
        }
    }

    /// The variables rules may use, `params` included.
    pub(crate) fn roots(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .root
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.push("params".into());
        names.sort();
        names
    }

    /// The types one rule sees: these inputs plus its own `params`.
    pub(crate) fn for_rule<'a>(&'a self, params: &'a BTreeMap<String, Value>) -> RuleTypes<'a> {
        RuleTypes {
            schema: self,
            params,
        }
    }

    /// Follows `$ref`s into `$defs`.
    fn resolve<'v>(&'v self, mut schema: &'v Value) -> &'v Value {
        for _ in 0..32 {
            let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            else {
                break;
            };
            match self.root.pointer(&format!("/$defs/{name}")) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// The schema and the branches it may take (`anyOf`, `oneOf`, `allOf`), resolved.
    fn branches<'v>(&'v self, schema: &'v Value, out: &mut Vec<&'v Value>) {
        let schema = self.resolve(schema);
        out.push(schema);
        for key in ["anyOf", "oneOf", "allOf"] {
            for branch in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.branches(branch, out);
            }
        }
    }
}

/// A type as the checker sees it: a sub-schema, or `None` for "anything goes".
type Ty = Option<Value>;

/// The types of one rule's variables.
pub(crate) struct RuleTypes<'a> {
    schema: &'a InputSchema,
    params: &'a BTreeMap<String, Value>,
}

fn has_type(schema: &Value, name: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == name),
        _ => false,
    }
}

impl Types for RuleTypes<'_> {
    type Ty = Ty;

    fn unknown(&self) -> Ty {
        None
    }

    fn variable(&self, name: &str) -> Option<Ty> {
        if name == "params" {
            let properties: serde_json::Map<String, Value> = self
                .params
                .keys()
                .map(|k| (k.clone(), json!(true)))
                .collect();
            return Some(Some(json!({
                "type": "object",
                "properties": properties,
                "additionalProperties": false,
            })));
        }
        self.schema
            .root
            .pointer(&format!("/properties/{name}"))
            .map(|s| Some(s.clone()))
    }

    fn member(&self, ty: &Ty, field: &str) -> Result<Ty, Vec<String>> {
        let Some(schema) = ty else { return Ok(None) };
        let mut branches = Vec::new();
        self.schema.branches(schema, &mut branches);
        let mut known = Vec::new();
        for b in &branches {
            if b.as_bool() == Some(true) || b.as_object().is_some_and(|o| o.is_empty()) {
                return Ok(None);
            }
            let properties = b.get("properties").and_then(Value::as_object);
            if let Some(found) = properties.and_then(|p| p.get(field)) {
                return Ok(Some(found.clone()));
            }
            if properties.is_some() || has_type(b, "object") {
                match b.get("additionalProperties") {
                    Some(Value::Bool(false)) => {}
                    Some(Value::Bool(true)) => return Ok(None),
                    Some(extra) => return Ok(Some(extra.clone())),
                    None if properties.is_none() => return Ok(None),
                    None => {}
                }
                known.extend(properties.into_iter().flat_map(|p| p.keys().cloned()));
            }
        }
        // A member of a scalar or list is as wrong as an unknown member of an object.
        known.sort();
        known.dedup();
        Err(known)
    }

    fn element(&self, ty: &Ty) -> Ty {
        let schema = ty.as_ref()?;
        let mut branches = Vec::new();
        self.schema.branches(schema, &mut branches);
        branches
            .iter()
            .find_map(|b| b.get("items").filter(|_| has_type(b, "array")))
            .cloned()
    }

    fn list_of(&self, ty: &Ty) -> Ty {
        Some(match ty {
            Some(items) => json!({ "type": "array", "items": items }),
            None => json!({ "type": "array" }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::ruleset::expr::{Expr, Problem};

    #[derive(JsonSchema)]
    #[expect(dead_code, reason = "only its schema is used")]
    struct Inputs {
        es: Es,
        mode: String,
    }

    #[derive(JsonSchema)]
    #[expect(dead_code, reason = "only its schema is used")]
    struct Es {
        nodes: Option<Vec<Node>>,
        settings: serde_json::Map<String, Value>,
    }

    #[derive(JsonSchema)]
    #[expect(dead_code, reason = "only its schema is used")]
    struct Node {
        name: String,
        version: Option<String>,
    }

    fn problems(source: &str) -> Vec<Problem> {
        let schema = InputSchema::of::<Inputs>(&[]);
        let params = BTreeMap::from([("limit".to_string(), json!(3))]);
        Expr::compile(source)
            .expect("compiles")
            .check(&schema.for_rule(&params), &[])
    }

    fn unknown_paths(source: &str) -> Vec<String> {
        problems(source)
            .into_iter()
            .filter_map(|p| match p {
                Problem::Member { path, .. } => Some(path),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn paths_through_lists_and_macros_are_checked() {
        assert!(unknown_paths("es.nodes.all(n, n.version == 'x')").is_empty());
        assert_eq!(
            unknown_paths("es.nodes.all(n, n.verison == 'x')"),
            ["es.nodes[].verison"]
        );
        assert_eq!(
            unknown_paths("es.nodes.filter(n, n.name != '').map(n, n.nmae)"),
            ["es.nodes[].nmae"]
        );
        assert_eq!(
            unknown_paths("es.nodes.exists_one(n, n.x == 1) || es.nodes[0].y == 1"),
            ["es.nodes[].x", "es.nodes[].y"]
        );
        assert_eq!(unknown_paths("es.nodez == null"), ["es.nodez"]);
        assert_eq!(
            unknown_paths("es.nodes.map(n, n.nmae + n.naem).size() > 0"),
            ["es.nodes[].nmae", "es.nodes[].naem"],
            "each once"
        );
    }

    #[test]
    fn open_maps_params_and_unknown_roots() {
        assert!(unknown_paths("es.settings.anything.below == 1").is_empty());
        assert!(unknown_paths("params.limit > 1").is_empty());
        assert_eq!(unknown_paths("params.limt > 1"), ["params.limt"]);
        assert!(
            problems("ghes.versions == null")
                .iter()
                .any(|p| matches!(p, Problem::Variable { name, .. } if name == "ghes"))
        );
    }
}
