//! Errors, worded as cel-go words them: Cerbos reports CEL runtime errors verbatim in
//! `evaluationErrors[].celError.message`, so the text matters.

use std::fmt;
use std::sync::Arc;

use cel::ExecutionError;

/// A condition that could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The expression as written.
    pub source: String,
    /// Every problem found, each with its place in the expression when known.
    pub issues: Vec<CompileIssue>,
}

/// One problem in an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileIssue {
    /// cel-go's wording, e.g. `undeclared reference to 'wat' (in container '')`.
    pub message: String,
    /// 1-based line and column inside the expression, when the parser gives one.
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl CompileError {
    pub(crate) fn single(source: &str, message: impl Into<String>) -> CompileError {
        CompileError { source: source.to_owned(), issues: vec![CompileIssue { message: message.into(), line: None, column: None }] }
    }

    /// The messages alone, in order (what Cerbos joins with `, ` inside `[...]`).
    pub fn messages(&self) -> Vec<&str> {
        self.issues.iter().map(|i| i.message.as_str()).collect()
    }
}

impl fmt::Display for CompileError {
    /// Cerbos's wording: ``Invalid expression `src`: [msg1, msg2]``. A long expression is cut
    /// after its first 100 characters (the message names it; the file and line locate it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 100;
        let shown = match self.source.char_indices().nth(SHOWN) {
            Some((cut, _)) if self.source.len() > 2 * SHOWN => format!("{}… ({} characters)", &self.source[..cut], self.source.chars().count()),
            _ => self.source.clone(),
        };
        write!(f, "Invalid expression `{shown}`: [{}]", self.messages().join(", "))
    }
}

impl std::error::Error for CompileError {}

/// A runtime error of one evaluation. `message` is what cel-go would print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub message: String,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// Marks a `NoSuchKey` whose text is to be printed as is. `has()` treats `NoSuchKey` as
/// "absent", which is also what an undefined variable must do, so our own absent-field
/// errors travel as `NoSuchKey` with this prefix.
pub(crate) const VERBATIM: &str = "\u{1}";

/// `undefined field 'x'`, as Cerbos reports an unknown `V.x`/`C.x`/`G.x`.
pub(crate) fn undefined_field(name: &str) -> ExecutionError {
    ExecutionError::NoSuchKey(Arc::new(format!("{VERBATIM}undefined field '{name}'")))
}

/// An error printed exactly as given.
pub(crate) fn verbatim(message: &str) -> ExecutionError {
    ExecutionError::FunctionError { function: String::new(), message: message.to_owned() }
}

/// A function's own error message (cel-go prints only the message).
pub(crate) fn fn_error(message: impl Into<String>) -> ExecutionError {
    ExecutionError::FunctionError { function: String::new(), message: message.into() }
}

/// cel-go's wording when a function got arguments of types it has no overload for.
pub(crate) fn no_such_overload_fn(function: &str, types: &[&str]) -> ExecutionError {
    fn_error(format!("no such overload: {function}({})", types.join(", ")))
}

fn is_operator(name: &str) -> bool {
    name.starts_with('_') || name.ends_with('_') || name.starts_with('@')
}

/// Maps the interpreter's errors onto cel-go's messages.
pub(crate) fn to_eval_error(e: &ExecutionError) -> EvalError {
    EvalError { message: message_of(e) }
}

pub(crate) fn message_of(e: &ExecutionError) -> String {
    use ExecutionError as E;
    match e {
        E::NoSuchKey(k) => match k.strip_prefix(VERBATIM) {
            Some(text) => text.to_owned(),
            None => format!("no such key: {k}"),
        },
        E::FunctionError { function, message } => function_message(function, message),
        E::NoSuchOverload(o) => {
            let f = o.function();
            let lhs = o.argument_types().first().map(String::as_str).unwrap_or_default();
            if is_operator(f) {
                operator_message(f, lhs_has_trait(f, lhs))
            } else if f == "size" {
                // cel-go's `size` dispatches on the Sizer trait, then on receiver types.
                let receiver = matches!(lhs, "google.protobuf.Timestamp" | "google.protobuf.Duration");
                if receiver {
                    "no such overload".to_owned()
                } else {
                    "no such overload: size".to_owned()
                }
            } else {
                format!("no such overload: {f}({})", o.argument_types().join(", "))
            }
        }
        E::UnsupportedBinaryOperator(op, lhs, _) => {
            let f = match *op {
                "add" => "_+_",
                "sub" => "_-_",
                "mul" => "_*_",
                "div" => "_/_",
                "rem" => "_%_",
                _ => "",
            };
            operator_message(f, lhs_has_trait(f, value_type_name(lhs)))
        }
        E::ValuesNotComparable(..) => "no such overload".to_owned(),
        E::UnexpectedType { got, want } if want == "iterable" => {
            format!("got '{}', expected iterable type", go_type_of(got))
        }
        E::UnexpectedType { .. } | E::UnsupportedTargetType { .. } => "no such overload".to_owned(),
        E::NotSupportedAsMethod { method, .. } => format!("no such overload: {method}"),
        E::DivisionByZero(_) => "division by zero".to_owned(),
        E::RemainderByZero(_) => "modulus by zero".to_owned(),
        E::Overflow(_, lhs, rhs) => match (lhs, rhs) {
            (cel::Value::Timestamp(_), cel::Value::Duration(_)) | (cel::Value::Duration(_), cel::Value::Timestamp(_)) => "timestamp overflow".to_owned(),
            (cel::Value::Timestamp(_), cel::Value::Timestamp(_)) | (cel::Value::Duration(_), cel::Value::Duration(_)) => "duration overflow".to_owned(),
            (cel::Value::UInt(_), _) => "unsigned integer overflow".to_owned(),
            _ => "integer overflow".to_owned(),
        },
        E::IndexOutOfBounds(v) => format!("index out of bounds: {}", value_text(v)),
        E::UndeclaredReference(name) => format!("no such attribute(s): {name}"),
        E::UnsupportedKeyType(v) => unsupported_key(value_type_name(v), &value_text(v)),
        E::UnsupportedIndex(..) => "no such overload".to_owned(),
        E::DuplicateKey(v) => format!("insert failed: key {} already exists", value_text(v)),
        E::InvalidArgumentCount { .. } | E::MissingArgumentOrTarget => "no such overload".to_owned(),
        E::InternalError(message) => format!("internal error: {message}"),
        // The deprecated variants the interpreter no longer raises, worded as cel-go words the
        // failures they stood for; never the Rust debug text of the values involved.
        #[allow(deprecated)]
        E::UnsupportedMapIndex(v) => unsupported_key(value_type_name(v), &value_text(v)),
        #[allow(deprecated)]
        E::UnsupportedListIndex(v) => format!("unsupported index type '{}' in list", value_type_name(v)),
        _ => "no such overload".to_owned(),
    }
}

/// A map key of a type CEL does not allow (a `double`, a list, ...).
pub(crate) fn unsupported_key(type_name: &str, value: &str) -> String {
    format!("unsupported key type: {type_name} ({value}): map keys are int, uint, bool or string")
}

/// cel-go dispatches operators on a trait of the left operand: without it the error names the
/// operator (`no such overload: _+_`), with it the operand's own method fails (`no such
/// overload`).
fn operator_message(function: &str, has_trait: bool) -> String {
    if has_trait || function.is_empty() {
        "no such overload".to_owned()
    } else {
        format!("no such overload: {function}")
    }
}

fn lhs_has_trait(function: &str, lhs: &str) -> bool {
    const NUMBERS: &[&str] = &["int", "uint", "double"];
    const TIME: &[&str] = &["google.protobuf.Duration", "google.protobuf.Timestamp"];
    match function {
        "_+_" => NUMBERS.contains(&lhs) || TIME.contains(&lhs) || matches!(lhs, "string" | "bytes" | "list"),
        "_-_" => NUMBERS.contains(&lhs) || TIME.contains(&lhs),
        "_*_" | "_/_" => NUMBERS.contains(&lhs),
        "_%_" => matches!(lhs, "int" | "uint"),
        "_<_" | "_<=_" | "_>_" | "_>=_" => NUMBERS.contains(&lhs) || TIME.contains(&lhs) || matches!(lhs, "bool" | "string" | "bytes"),
        "-_" => matches!(lhs, "int" | "double" | "google.protobuf.Duration"),
        "_[_]" => matches!(lhs, "list" | "map" | "cerbos.lib.hierarchy") || lhs.starts_with("cerbos.engine.v1."),
        _ => true,
    }
}

/// Go's `%T` of the cel-go value of a CEL type (for messages cel-go prints verbatim).
pub(crate) fn go_type_of(cel_type: &str) -> String {
    match cel_type {
        "double" => "types.Double",
        "int" => "types.Int",
        "uint" => "types.Uint",
        "string" => "types.String",
        "bool" => "types.Bool",
        "bytes" => "types.Bytes",
        "null_type" => "types.Null",
        "google.protobuf.Timestamp" => "types.Timestamp",
        "google.protobuf.Duration" => "types.Duration",
        "optional_type" => "*types.Optional",
        "cerbos.lib.hierarchy" => "types.Hierarchy",
        "type" => "*types.Type",
        other => other,
    }
    .to_owned()
}

fn value_type_name(v: &cel::Value) -> &'static str {
    match v {
        cel::Value::Int(_) => "int",
        cel::Value::UInt(_) => "uint",
        cel::Value::Float(_) => "double",
        cel::Value::String(_) => "string",
        cel::Value::Bytes(_) => "bytes",
        cel::Value::Bool(_) => "bool",
        cel::Value::List(_) => "list",
        cel::Value::Map(_) => "map",
        cel::Value::Duration(_) => "google.protobuf.Duration",
        cel::Value::Timestamp(_) => "google.protobuf.Timestamp",
        cel::Value::Null => "null_type",
        _ => "",
    }
}

/// The standard library's conversion and decoding errors, as cel-go words them.
fn function_message(function: &str, message: &str) -> String {
    let conversion = |to: &str| format!("type conversion error from 'string' to '{to}'");
    match function {
        "int" | "uint" | "double" if message.starts_with("string parse error") => conversion(function),
        "bool" if message.starts_with("Type conversion error") => conversion("bool"),
        "timestamp" if message.contains("range") => "timestamp overflow".to_owned(),
        "timestamp" => conversion("google.protobuf.Timestamp"),
        "duration" => conversion("google.protobuf.Duration"),
        _ => {
            // base64: "Invalid symbol 33, offset 0." -> Go's "illegal base64 data at input byte 0"
            if let Some(rest) = message.strip_prefix("Invalid ") {
                if let Some(off) = rest.split("offset ").nth(1) {
                    let off = off.trim_end_matches('.');
                    return format!("illegal base64 data at input byte {off}");
                }
            }
            message.to_owned()
        }
    }
}

fn value_text(v: &cel::Value) -> String {
    match v {
        cel::Value::Int(i) => i.to_string(),
        cel::Value::UInt(u) => u.to_string(),
        cel::Value::Float(f) => f.to_string(),
        cel::Value::String(s) => s.to_string(),
        cel::Value::Bool(b) => b.to_string(),
        cel::Value::Null => "null".to_owned(),
        other => match value_type_name(other) {
            "" => "value".to_owned(),
            name => name.to_owned(),
        },
    }
}
