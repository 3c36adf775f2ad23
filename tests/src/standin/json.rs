//! Reading a stand-in's definition files (`model.json`, a list of codes): the file's JSON, and
//! its members by name, each error naming the file or the key at fault. What the members mean
//! is each stand-in's own.

use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value};

/// `build` applied to the JSON of the file at `path`; `what` names the file in errors
/// (`model`, `codes`).
pub fn load<T>(
    path: &Path,
    what: &str,
    build: impl FnOnce(&Value) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    build(&json).with_context(|| format!("{what} {}", path.display()))
}

/// Member `key`, which must be there.
pub fn field<'a>(json: &'a Value, key: &str) -> anyhow::Result<&'a Value> {
    json.get(key).with_context(|| format!("{key} is missing"))
}

/// Member `key`, a string.
pub fn text(json: &Value, key: &str) -> anyhow::Result<String> {
    let value = field(json, key)?.as_str();
    Ok(value
        .with_context(|| format!("{key} is not a string"))?
        .to_owned())
}

/// Member `key`, a whole number that fits `T`.
pub fn number<T: TryFrom<u64>>(json: &Value, key: &str) -> anyhow::Result<T> {
    let n = field(json, key)?.as_u64();
    let n = n.with_context(|| format!("{key} is not a whole number"))?;
    T::try_from(n).map_err(|_| anyhow::anyhow!("{key} is out of range"))
}

/// Member `key`, an array.
pub fn array<'a>(json: &'a Value, key: &str) -> anyhow::Result<&'a Vec<Value>> {
    field(json, key)?
        .as_array()
        .with_context(|| format!("{key} is not an array"))
}

/// Member `key`, an object.
pub fn object<'a>(json: &'a Value, key: &str) -> anyhow::Result<&'a Map<String, Value>> {
    field(json, key)?
        .as_object()
        .with_context(|| format!("{key} is not an object"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_name_the_key_at_fault() {
        let json = json!({"name": "x", "count": 300, "list": []});
        assert_eq!(text(&json, "name").unwrap(), "x");
        assert_eq!(number::<u16>(&json, "count").unwrap(), 300);
        assert!(array(&json, "list").unwrap().is_empty());
        let message = |e: anyhow::Error| e.to_string();
        assert_eq!(message(text(&json, "gone").unwrap_err()), "gone is missing");
        assert_eq!(
            message(number::<u8>(&json, "count").unwrap_err()),
            "count is out of range"
        );
        assert_eq!(
            message(object(&json, "list").unwrap_err()),
            "list is not an object"
        );
    }
}
