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
        CompileError {
            source: source.to_owned(),
            issues: vec![CompileIssue { message: message.into(), line: None, column: None }],
        }
    }

    /// The messages alone, in order (what Cerbos joins with `, ` inside `[...]`).
    pub fn messages(&self) -> Vec<&str> {
        self.issues.iter().map(|i| i.message.as_str()).collect()
    }
}

impl fmt::Display for CompileError {
    /// Cerbos's wording: ``Invalid expression `src`: [msg1, msg2]``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid expression `{}`: [{}]", self.source, self.messages().join(", "))
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
        E::FunctionError { function, message } => {
            if function.is_empty() {
                message.clone()
            } else if message.starts_with("no such overload") {
                message.clone()
            } else {
                // The crate's own functions: cel-go reports just the cause as well.
                message.clone()
            }
        }
        E::NoSuchOverload(o) => {
            if is_operator(o.function()) {
                "no such overload".to_owned()
            } else {
                format!("no such overload: {}({})", o.function(), o.argument_types().join(", "))
            }
        }
        E::UnsupportedBinaryOperator(..) | E::ValuesNotComparable(..) => "no such overload".to_owned(),
        E::UnexpectedType { .. } | E::UnsupportedTargetType { .. } => "no such overload".to_owned(),
        E::NotSupportedAsMethod { method, .. } => format!("no such overload: {method}"),
        E::DivisionByZero(_) => "division by zero".to_owned(),
        E::RemainderByZero(_) => "modulus by zero".to_owned(),
        E::Overflow(..) => "integer overflow".to_owned(),
        E::IndexOutOfBounds(v) => format!("index out of bounds: {}", value_text(v)),
        E::UndeclaredReference(name) => format!("no such attribute(s): {name}"),
        E::UnsupportedKeyType(v) => format!("unsupported key type: {}", value_text(v)),
        E::UnsupportedIndex(..) => "no such overload".to_owned(),
        E::DuplicateKey(v) => format!("insert failed: key {} already exists", value_text(v)),
        E::InvalidArgumentCount { .. } | E::MissingArgumentOrTarget => "no such overload".to_owned(),
        other => other.to_string(),
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
        other => format!("{other:?}"),
    }
}
