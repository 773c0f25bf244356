//! Building and comparing the CEL expressions the planner keeps as residuals (the `cel` crate's
//! AST, the same type conditions are compiled to, so a residual can be evaluated again).
use cel::common::ast::{CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, IdedExpr, ListExpr, LiteralValue, MapEntryExpr, MapExpr};
use cel::common::types::{CelBool, CelBytes, CelDouble, CelInt, CelString, CelUInt};
use std::fmt::Write;

use crate::cel::planning::{format_duration, format_timestamp, TO_DURATION, TO_TIMESTAMP};
use crate::cel::CelValue;

pub(crate) fn ided(expr: Expr) -> IdedExpr {
    IdedExpr { id: 0, expr }
}

pub(crate) fn ident(name: &str) -> IdedExpr {
    ided(Expr::Ident(name.to_owned()))
}

pub(crate) fn call(func: &str, args: Vec<IdedExpr>) -> IdedExpr {
    ided(Expr::Call(CallExpr { func_name: func.to_owned(), target: None, args }))
}

pub(crate) fn lit_bool(b: bool) -> IdedExpr {
    ided(Expr::Literal(LiteralValue::Boolean(CelBool::from(b))))
}

pub(crate) fn lit_str(s: &str) -> IdedExpr {
    ided(Expr::Literal(LiteralValue::String(CelString::from(s.to_owned()))))
}

pub(crate) fn list(elements: Vec<IdedExpr>) -> IdedExpr {
    ided(Expr::List(ListExpr::new(elements)))
}

pub(crate) fn map(entries: Vec<(IdedExpr, IdedExpr)>) -> IdedExpr {
    let entries =
        entries.into_iter().map(|(key, value)| IdedEntryExpr { id: 0, expr: EntryExpr::MapEntry(MapEntryExpr { key, value, optional: false }) }).collect();
    ided(Expr::Map(MapExpr { entries }))
}

pub(crate) fn comprehension(c: ComprehensionExpr) -> IdedExpr {
    ided(Expr::Comprehension(Box::new(c)))
}

/// `op(a0, op(a1, op(a2, ...)))`: how Cerbos chains a binary operator over several operands.
pub(crate) fn right_nested(op: &str, mut args: Vec<IdedExpr>) -> IdedExpr {
    let last = args.pop().unwrap_or_else(|| lit_bool(false));
    args.into_iter().rev().fold(last, |acc, a| call(op, vec![a, acc]))
}

pub(crate) fn as_bool_literal(e: &IdedExpr) -> Option<bool> {
    match &e.expr {
        Expr::Literal(LiteralValue::Boolean(b)) => Some(*b.inner()),
        _ => None,
    }
}

/// The expression cel-go's pruner puts in place of a known value, when there is one: a literal,
/// `duration("…")` / `timestamp("…")`, or a list or map of those. Map entries are ordered by
/// key so that plans are deterministic (cel-go's order is Go's map order).
pub(crate) fn literal(v: &CelValue) -> Option<IdedExpr> {
    literal_of(&v.to_cel_value().ok()?)
}

fn literal_of(v: &cel::Value) -> Option<IdedExpr> {
    use cel::Value as V;
    let lit = |l| Some(ided(Expr::Literal(l)));
    match v {
        V::Bool(b) => lit(LiteralValue::Boolean(CelBool::from(*b))),
        V::Int(i) => lit(LiteralValue::Int(CelInt::from(*i))),
        V::UInt(u) => lit(LiteralValue::UInt(CelUInt::from(*u))),
        V::Float(f) => lit(LiteralValue::Double(CelDouble::from(*f))),
        V::String(s) => lit(LiteralValue::String(CelString::from(s.to_string()))),
        V::Bytes(b) => lit(LiteralValue::Bytes(CelBytes::from(b.to_vec()))),
        V::Null => lit(LiteralValue::Null),
        V::Duration(d) => Some(call(TO_DURATION, vec![lit_str(&format_duration(d))])),
        V::Timestamp(t) => Some(call(TO_TIMESTAMP, vec![lit_str(&format_timestamp(t))])),
        V::List(items) => Some(list(items.iter().map(literal_of).collect::<Option<Vec<_>>>()?)),
        V::Map(m) => {
            let mut entries: Vec<(String, IdedExpr, IdedExpr)> = Vec::with_capacity(m.map.len());
            for (k, v) in m.map.iter() {
                let key = match k {
                    cel::objects::Key::Int(i) => ided(Expr::Literal(LiteralValue::Int(CelInt::from(*i)))),
                    cel::objects::Key::Uint(u) => ided(Expr::Literal(LiteralValue::UInt(CelUInt::from(*u)))),
                    cel::objects::Key::Bool(b) => ided(Expr::Literal(LiteralValue::Boolean(CelBool::from(*b)))),
                    cel::objects::Key::String(s) => lit_str(s),
                };
                entries.push((sort_key(&key), key, literal_of(v)?));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Some(map(entries.into_iter().map(|(_, k, v)| (k, v)).collect()))
        }
        _ => None,
    }
}

/// Whether `e` is built from literals only (cel-go's `containsOnlyKnownValues`).
pub(crate) fn only_literals(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Literal(_) => true,
        Expr::List(l) => l.elements.iter().all(only_literals),
        Expr::Map(m) => m.entries.iter().all(|en| match &en.expr {
            EntryExpr::MapEntry(me) => only_literals(&me.key) && only_literals(&me.value),
            EntryExpr::StructField(f) => only_literals(&f.value),
        }),
        Expr::Struct(s) => s.entries.iter().all(|en| match &en.expr {
            EntryExpr::MapEntry(me) => only_literals(&me.value),
            EntryExpr::StructField(f) => only_literals(&f.value),
        }),
        _ => false,
    }
}

/// A text that orders expressions as Cerbos orders map keys (by the protobuf text of the key
/// expression, ids left out), and identifies equal expressions (for de-duplication).
pub(crate) fn sort_key(e: &IdedExpr) -> String {
    let mut out = String::new();
    write_key(e, &mut out);
    out
}

fn write_key(e: &IdedExpr, out: &mut String) {
    match &e.expr {
        Expr::Unspecified => out.push_str("unspecified"),
        Expr::Literal(l) => {
            out.push_str("const_expr:{");
            match l {
                LiteralValue::Boolean(b) => write!(out, "bool_value:{}", b.inner()).unwrap_or(()),
                LiteralValue::Bytes(b) => write!(out, "bytes_value:{:?}", b.inner()).unwrap_or(()),
                LiteralValue::Double(d) => write!(out, "double_value:{}", d.inner()).unwrap_or(()),
                LiteralValue::Int(i) => write!(out, "int64_value:{}", i.inner()).unwrap_or(()),
                LiteralValue::Null => out.push_str("null_value:NULL_VALUE"),
                LiteralValue::String(s) => write!(out, "string_value:{:?}", s.inner()).unwrap_or(()),
                LiteralValue::UInt(u) => write!(out, "uint64_value:{}", u.inner()).unwrap_or(()),
            }
            out.push('}');
        }
        Expr::Ident(n) => write!(out, "ident_expr:{{name:{n:?}}}").unwrap_or(()),
        Expr::Select(s) => {
            out.push_str("select_expr:{operand:{");
            write_key(&s.operand, out);
            write!(out, "}} field:{:?}{}}}", s.field, if s.test { " test_only:true" } else { "" }).unwrap_or(());
        }
        Expr::Call(c) => {
            out.push_str("call_expr:{");
            if let Some(t) = &c.target {
                out.push_str("target:{");
                write_key(t, out);
                out.push_str("} ");
            }
            write!(out, "function:{:?}", c.func_name).unwrap_or(());
            for a in &c.args {
                out.push_str(" args:{");
                write_key(a, out);
                out.push('}');
            }
            out.push('}');
        }
        Expr::List(l) => {
            out.push_str("list_expr:{");
            for el in &l.elements {
                out.push_str("elements:{");
                write_key(el, out);
                out.push_str("} ");
            }
            out.push('}');
        }
        Expr::Map(m) => {
            // Entries in key order: Cerbos orders them before comparing (`orderStructEntriesNode`).
            let mut entries: Vec<String> = m
                .entries
                .iter()
                .map(|en| match &en.expr {
                    EntryExpr::MapEntry(me) => format!("entries:{{map_key:{{{}}} value:{{{}}}}}", sort_key(&me.key), sort_key(&me.value)),
                    EntryExpr::StructField(f) => format!("entries:{{field_key:{:?} value:{{{}}}}}", f.field, sort_key(&f.value)),
                })
                .collect();
            entries.sort();
            write!(out, "struct_expr:{{{}}}", entries.join(" ")).unwrap_or(());
        }
        Expr::Struct(s) => {
            let mut entries: Vec<String> = s
                .entries
                .iter()
                .map(|en| match &en.expr {
                    EntryExpr::MapEntry(me) => format!("entries:{{map_key:{{{}}} value:{{{}}}}}", sort_key(&me.key), sort_key(&me.value)),
                    EntryExpr::StructField(f) => format!("entries:{{field_key:{:?} value:{{{}}}}}", f.field, sort_key(&f.value)),
                })
                .collect();
            entries.sort();
            write!(out, "struct_expr:{{message_name:{:?} {}}}", s.type_name, entries.join(" ")).unwrap_or(());
        }
        Expr::Comprehension(c) => {
            write!(out, "comprehension_expr:{{iter_var:{:?}", c.iter_var).unwrap_or(());
            if let Some(v2) = &c.iter_var2 {
                write!(out, " iter_var2:{v2:?}").unwrap_or(());
            }
            for (name, part) in [
                ("iter_range", &c.iter_range),
                ("accu_init", &c.accu_init),
                ("loop_condition", &c.loop_cond),
                ("loop_step", &c.loop_step),
                ("result", &c.result),
            ] {
                write!(out, " {name}:{{").unwrap_or(());
                write_key(part, out);
                out.push('}');
            }
            write!(out, " accu_var:{:?}}}", c.accu_var).unwrap_or(());
        }
    }
}

/// The call's operands in cel-go's order: the receiver of a member call first.
pub(crate) fn call_operands(c: &CallExpr) -> impl Iterator<Item = &IdedExpr> {
    c.target.as_deref().into_iter().chain(c.args.iter())
}
