//! What an expression would cost on this run's facts, estimated before it runs: loops times
//! the lists they walk (and the lists they build), so an expression over budget never starts.

use super::*;

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
pub(super) struct Estimator<'s> {
    pub(super) sizes: &'s dyn ListSizes,
    /// Comprehension variables in scope, innermost last, with the path of what they are an
    /// element of (`None`: an element of a computed list, or an accumulator).
    pub(super) bound: Vec<(String, Option<String>)>,
    /// Every path whose length was asked, in order.
    pub(super) asked: Vec<String>,
}

impl<'s> Estimator<'s> {
    pub(super) fn new(sizes: &'s dyn ListSizes) -> Self {
        Self {
            sizes,
            bound: Vec::new(),
            asked: Vec::new(),
        }
    }

    /// What `e` may cost, each evaluation of it.
    pub(super) fn cost(&mut self, e: &IdedExpr) -> Cost {
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

    pub(super) fn cost_of_children(&mut self, e: &IdedExpr) -> Cost {
        children(e)
            .into_iter()
            .fold(Cost::default(), |sum, child| sum.then(self.cost(child)))
    }

    /// What the call itself costs beyond its operands: the operators that walk a whole list.
    pub(super) fn call_cost(&mut self, call: &cel::common::ast::CallExpr) -> u64 {
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

    pub(super) fn len_or_largest(&mut self, e: &IdedExpr) -> u64 {
        self.len_of(e).unwrap_or_else(|| self.sizes.largest())
    }

    /// The length of the list (or map) `e` evaluates to, where it can be told.
    pub(super) fn len_of(&mut self, e: &IdedExpr) -> Option<u64> {
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
    pub(super) fn path_of(&self, e: &IdedExpr) -> Option<String> {
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
pub(super) fn is_accumulator(e: &IdedExpr) -> bool {
    matches!(&e.expr, Ast::Ident(name) if name.starts_with('@'))
}

/// Whether a comprehension builds a list (`map`, `filter`): an empty list it appends to.
pub(super) fn builds_a_list(c: &cel::common::ast::ComprehensionExpr) -> bool {
    appended_element(c.accu_init.expr.clone(), &c.loop_step, &c.accu_var).is_some()
}

/// Whether a comprehension is a `filter`: what it appends is its own variable.
pub(super) fn keeps_its_elements(c: &cel::common::ast::ComprehensionExpr) -> bool {
    appended_element(c.accu_init.expr.clone(), &c.loop_step, &c.accu_var)
        .is_some_and(|x| matches!(&x.expr, Ast::Ident(n) if *n == c.iter_var))
}

/// In a comprehension over an empty-list accumulator, the `x` of `accu + [x]` in its step.
pub(super) fn appended_element<'e>(
    init: Ast,
    step: &'e IdedExpr,
    accu: &str,
) -> Option<&'e IdedExpr> {
    let Ast::List(init) = init else { return None };
    if !init.elements.is_empty() {
        return None;
    }
    find_append(step, accu)
}

pub(super) fn find_append<'e>(e: &'e IdedExpr, accu: &str) -> Option<&'e IdedExpr> {
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
