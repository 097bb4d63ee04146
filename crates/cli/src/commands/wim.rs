//! Reading WIM record files for `xl reanalyze --wim`.
use std::path::Path;

use anyhow::Context;
use xl_schema::WimRecord;

/// Every record of a JSONL file; a malformed line is an error naming the line and field.
pub fn read_jsonl(path: &Path) -> anyhow::Result<Vec<WimRecord>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read WIM file {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let records = xl_api::parse_wim_json(line.as_bytes())
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        out.extend(records);
    }
    Ok(out)
}
