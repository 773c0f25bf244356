//! Policy documents: the model, parsing with positions, and the directory walk.
pub mod effect;
pub mod err;
pub mod model;
pub mod parse;
pub mod store;

pub use effect::Effect;
pub use err::{PolicyErrors, Problem};
pub use parse::{parse_policy, SourcePolicy};
