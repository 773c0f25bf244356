//! A rule's effect, and a decision's: the one type from the policy text to the answer. Cerbos's
//! names (`EFFECT_ALLOW`, `EFFECT_DENY`) appear only where text is read or written.
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Effect {
    Allow,
    /// Also what an undecided action comes to: deny by default.
    #[default]
    Deny,
}

impl Effect {
    /// Cerbos's name of the effect.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "EFFECT_ALLOW",
            Effect::Deny => "EFFECT_DENY",
        }
    }

    /// The effect Cerbos's name stands for.
    pub fn from_name(name: &str) -> Option<Effect> {
        match name {
            "EFFECT_ALLOW" => Some(Effect::Allow),
            "EFFECT_DENY" => Some(Effect::Deny),
            _ => None,
        }
    }
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Effect {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
