//! Limits checked when an expression is compiled, before it ever runs: its size, the depth of
//! its tree (the parser and evaluator recurse) and how deeply its loops nest.

use super::*;

/// The deepest bracket nesting an expression may have. The parser and the evaluator recurse
/// per level; real rules nest a handful deep, so this refuses only hostile or broken files,
/// with a clear error instead of a stack overflow.
pub(super) const MAX_NESTING: usize = 32;
/// The longest expression, in bytes: long chains recurse too.
pub(super) const MAX_LENGTH: usize = 16 * 1024;

/// Refuses what would recurse too deeply, at the position that goes too far.
pub(super) fn check_size(source: &str) -> Result<(), ParseError> {
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
pub(super) const MAX_DEPTH: usize = 200;

/// Refuses an expression tree deeper than [`MAX_DEPTH`], at its deepest node. Walked with an
/// explicit stack: the check must not itself recurse.
pub(super) fn check_depth(program: &Program, source: &str) -> Result<(), ParseError> {
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
pub(super) fn node_offset(program: &Program, e: &IdedExpr) -> usize {
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
pub(super) fn check_loop_nesting(program: &Program, source: &str) -> Result<(), ParseError> {
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
