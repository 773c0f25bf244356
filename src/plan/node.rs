//! The plan of one action as a tree of logical operations over residual conditions (Cerbos's
//! `PlanResourcesAst_Node`), with Cerbos's constructors: `or`/`and` drop repeated nodes, `not`
//! of a `not` unwraps.
use cel::common::ast::{operators, IdedExpr};

use super::expr::{as_bool_literal, call, lit_bool, right_nested, sort_key};
use super::filter::Operand;
use super::operand;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A residual condition.
    Expr(IdedExpr),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Node {
    pub(crate) fn bool(b: bool) -> Node {
        Node::Expr(lit_bool(b))
    }

    /// `Some(b)` when the node is the literal `b` (Cerbos's `IsNodeConstBool`).
    pub(crate) fn const_bool(&self) -> Option<bool> {
        match self {
            Node::Expr(e) => as_bool_literal(e),
            _ => None,
        }
    }

    /// Cerbos's `InvertNodeBooleanValue`.
    pub(crate) fn invert(self) -> Node {
        match self {
            Node::Not(inner) => *inner,
            other => Node::Not(Box::new(other)),
        }
    }

    /// A text identifying the node, map entries ordered (for de-duplication).
    fn key(&self) -> String {
        match self {
            Node::Expr(e) => sort_key(e),
            Node::And(ns) => format!("and[{}]", ns.iter().map(Node::key).collect::<Vec<_>>().join(",")),
            Node::Or(ns) => format!("or[{}]", ns.iter().map(Node::key).collect::<Vec<_>>().join(",")),
            Node::Not(n) => format!("not[{}]", n.key()),
        }
    }

    /// The node as filter operands (Cerbos's `convert`).
    pub(crate) fn to_operand(&self) -> Result<Operand, String> {
        Ok(match self {
            Node::Expr(e) => operand::build(e)?,
            Node::And(ns) => Operand::expr("and", ns.iter().map(Node::to_operand).collect::<Result<_, _>>()?),
            Node::Or(ns) => Operand::expr("or", ns.iter().map(Node::to_operand).collect::<Result<_, _>>()?),
            Node::Not(n) => Operand::expr("not", vec![n.to_operand()?]),
        })
    }

    /// The node as one CEL expression (Cerbos's `qpNToExpr`): `and`/`or` chained right-nested.
    pub(crate) fn to_expr(&self) -> IdedExpr {
        match self {
            Node::Expr(e) => e.clone(),
            Node::Not(n) => call(operators::LOGICAL_NOT, vec![n.to_expr()]),
            Node::And(ns) => right_nested(operators::LOGICAL_AND, ns.iter().map(Node::to_expr).collect()),
            Node::Or(ns) => right_nested(operators::LOGICAL_OR, ns.iter().map(Node::to_expr).collect()),
        }
    }
}

fn dedup(nodes: Vec<Node>) -> Vec<Node> {
    let mut seen: Vec<String> = Vec::with_capacity(nodes.len());
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        let k = n.key();
        if !seen.contains(&k) {
            seen.push(k);
            out.push(n);
        }
    }
    out
}

/// Cerbos's `MkOrNode`: repeated nodes dropped; one node is itself.
pub(crate) fn or(nodes: Vec<Node>) -> Option<Node> {
    let mut unique = dedup(nodes);
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(Node::Or(unique)),
    }
}

/// Cerbos's `MkAndNode`.
pub(crate) fn and(nodes: Vec<Node>) -> Option<Node> {
    let mut unique = dedup(nodes);
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(Node::And(unique)),
    }
}

/// `curr` combined with `next` (Cerbos's `addNode`): either alone when the other is missing.
pub(crate) fn add(curr: Option<Node>, next: Option<Node>, combine: fn(Vec<Node>) -> Option<Node>) -> Option<Node> {
    match (curr, next) {
        (c, None) => c,
        (None, n) => n,
        (Some(c), Some(n)) => combine(vec![c, n]),
    }
}

/// The allow and deny conditions of one action (Cerbos's `NodeFilter`).
#[derive(Default)]
pub(crate) struct NodeFilter {
    allow: Vec<Node>,
    deny: Vec<Node>,
}

impl NodeFilter {
    pub(crate) fn add_allow(&mut self, n: Node) {
        self.allow.push(n);
    }

    pub(crate) fn allow_is_empty(&self) -> bool {
        self.allow.is_empty()
    }

    pub(crate) fn deny_is_empty(&self) -> bool {
        self.deny.is_empty()
    }

    pub(crate) fn reset_to_unconditional_deny(&mut self) {
        self.deny = vec![Node::bool(false)];
    }

    /// The denies (already inverted) ANDed with the allows ORed; no rule at all is `false`.
    pub(crate) fn into_node(mut self) -> Node {
        match (self.allow.len(), self.deny.len()) {
            (0, 0) => Node::bool(false),
            (0, 1) => self.deny.remove(0),
            (0, _) => Node::And(self.deny),
            (1, 0) => self.allow.remove(0),
            (1, _) => {
                self.deny.push(self.allow.remove(0));
                Node::And(self.deny)
            }
            (_, 0) => Node::Or(self.allow),
            (_, _) => {
                self.deny.push(Node::Or(self.allow));
                Node::And(self.deny)
            }
        }
    }
}
