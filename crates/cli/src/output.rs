//! Result output on stdout (logs go to stderr).
use std::io::Write;

use xl_schema::Event;

pub fn event_line(e: &Event) -> String {
    let plate = e.plate.as_ref();
    format!(
        "{}  {:<10} {:<12} {:<9} {:<6} conf {:.2}",
        e.ts.format("%Y-%m-%d %H:%M:%S%.3f"),
        e.camera_id,
        e.kind.as_str(),
        plate.map_or("-", |p| p.text.as_str()),
        plate.map_or("-", |p| p.color.as_str()),
        plate.map_or(0.0, |p| p.confidence),
    )
}

pub fn stdout_line(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}
