//! Writing a pipeline file that combines a base pipeline with a rules file elsewhere (the demo
//! uses the simulator's generated rules with the shipped pipeline).
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `out`: `base` with its model paths made absolute and `rules_file` pointing at `rules`.
pub fn with_rules(base: &Path, rules: &Path, out: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(base)
        .with_context(|| format!("cannot read pipeline {}", base.display()))?;
    let mut doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", base.display()))?;
    let base_dir = std::path::absolute(base.parent().unwrap_or(Path::new(".")))?;
    if let Some(toml::Value::Table(models)) = doc.get_mut("models") {
        for (_, value) in models.iter_mut() {
            if let toml::Value::String(p) = value {
                let absolute = base_dir.join(p.as_str()).to_string_lossy().into_owned();
                *p = absolute;
            }
        }
    }
    doc.remove("rules");
    doc.insert(
        "rules_file".into(),
        toml::Value::String(std::path::absolute(rules)?.to_string_lossy().into_owned()),
    );
    let body = toml::to_string(&doc)?;
    std::fs::write(
        out,
        format!(
            "# Generated from {} with rules from {}.\n{body}",
            base.display(),
            rules.display()
        ),
    )
    .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out.to_path_buf())
}
