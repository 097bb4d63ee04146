//! Parsing weigh-in-motion records from untrusted JSON, naming the field at fault.
use xl_schema::WimRecord;

/// Why a WIM record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct WimParseError {
    /// Path of the field at fault (`gross_kg`, `[2].lane`), when the error is about one.
    pub field: Option<String>,
    pub message: String,
}

/// One record (a JSON object) or a batch (a JSON array of objects).
pub fn parse_wim_json(bytes: &[u8]) -> Result<Vec<WimRecord>, WimParseError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        parse::<Vec<WimRecord>>(bytes)
    } else {
        parse::<WimRecord>(bytes).map(|r| vec![r])
    }
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WimParseError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde names a missing or unknown field in its message, not in the path.
        let message = inner.to_string();
        let field = if path == "." || path.is_empty() {
            named_in(&message)
        } else {
            Some(path)
        };
        WimParseError {
            field,
            message: strip_position(&message),
        }
    })?;
    de.end().map_err(|e| WimParseError {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}

/// The field in "missing field `x`" / "unknown field `x`, expected ...".
fn named_in(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// serde_json's " at line 1 column 42" means nothing to an API client.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"station_id":"WIM-01","lane":1,"ts":"2026-11-29T10:00:00+08:00","axles":3,"gross_kg":31000}"#;

    #[test]
    fn reads_one_record_or_a_batch() {
        assert_eq!(parse_wim_json(GOOD.as_bytes()).unwrap().len(), 1);
        let batch = format!("[{GOOD},{GOOD}]");
        assert_eq!(parse_wim_json(batch.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn names_the_field_at_fault() {
        let wrong_type = GOOD.replace("31000", "\"heavy\"");
        let e = parse_wim_json(wrong_type.as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("gross_kg"), "{e}");
        let missing = GOOD.replace(r#","axles":3"#, "");
        let e = parse_wim_json(missing.as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("axles"), "{e}");
        let unknown = GOOD.replace(r#""lane":1"#, r#""lane":1,"weight":5"#);
        let e = parse_wim_json(unknown.as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("weight"), "{e}");
        let bad_time = GOOD.replace("2026-11-29T10:00:00+08:00", "yesterday");
        let e = parse_wim_json(bad_time.as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("ts"), "{e}");
        let in_batch = format!("[{GOOD},{}]", GOOD.replace(r#""lane":1"#, r#""lane":-1"#));
        let e = parse_wim_json(in_batch.as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("[1].lane"), "{e}");
        assert!(!e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn trailing_garbage_and_non_json_are_errors() {
        assert!(parse_wim_json(format!("{GOOD} x").as_bytes()).is_err());
        assert!(parse_wim_json(b"not json").is_err());
        assert!(parse_wim_json(b"").is_err());
    }
}
