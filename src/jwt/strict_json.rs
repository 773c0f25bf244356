//! JSON parsing that refuses duplicate object keys at any depth.
//!
//! RFC 7515 §5.2 lets a parser keep the last duplicate, RFC 8259 §4 calls the
//! result unpredictable; a token that an IdP, a gateway and this app read
//! differently is an attack surface, so duplicates are an error here.
//! Depth is bounded by serde_json's recursion limit (128).
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parse `bytes` as one JSON object, refusing duplicate keys and trailing data.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    match parse_value(bytes)? {
        Value::Object(map) => Ok(map),
        other => Err(format!("expected a JSON object, found {}", type_name(&other))),
    }
}

/// Parse `bytes` as one JSON value, refusing duplicate keys and trailing data.
pub fn parse_value(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// A short name for a JSON value's type, for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            // One hash lookup per member: the entry both detects and fills.
            match map.entry(key) {
                Entry::Occupied(dup) => {
                    return Err(de::Error::custom(format_args!("duplicate member {}", super::error::quoted(dup.key()))));
                }
                Entry::Vacant(slot) => {
                    slot.insert(access.next_value_seed(StrictValue)?);
                }
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"a":1,"a":2}"#).unwrap_err().contains("duplicate member \"a\""));
        assert!(parse_object(br#"{"x":{"b":1,"b":1}}"#).is_err());
        assert!(parse_object(br#"{"x":[{"b":1,"b":1}]}"#).is_err());
        // Same name with an escape is still the same name.
        assert!(parse_object(br#"{"exp":1,"\u0065xp":2}"#).is_err());
    }

    #[test]
    fn refuses_non_objects_and_trailing_data() {
        assert!(parse_object(b"[1]").is_err());
        assert!(parse_object(b"\"s\"").is_err());
        assert!(parse_object(b"{} x").is_err());
        assert!(parse_object(b"").is_err());
    }

    #[test]
    fn refuses_overflowing_numbers_and_deep_nesting() {
        assert!(parse_object(br#"{"exp":1e400}"#).is_err());
        let big = format!("{{\"exp\":{}}}", "9".repeat(400));
        assert!(parse_object(big.as_bytes()).is_err());
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_object(deep.as_bytes()).is_err());
    }

    #[test]
    fn keeps_member_order_and_values() {
        let m = parse_object(br#"{"b":1,"a":[true,null,"s",1.5]}"#).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(m["a"][3], serde_json::json!(1.5));
    }
}
