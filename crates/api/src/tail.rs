//! Following WIM JSONL files like `tail -F`: complete new lines are parsed and handed in; a
//! partial last line waits for its newline; a file that shrinks was rotated or truncated and is
//! read again from the start; a missing file is waited for.
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;
use xl_rules::WimIntake;

use crate::server::WimCounters;
use crate::wim::parse_wim_json;

/// Lines read from followed files, by outcome.
#[derive(Debug, Default)]
pub struct TailStats {
    pub lines: AtomicU64,
    pub malformed: AtomicU64,
}

struct Followed {
    path: PathBuf,
    /// Inode of the file read so far: a new inode is a rotated file, read from its start.
    inode: u64,
    offset: u64,
    /// Lines consumed so far (for error messages).
    line: u64,
    partial: Vec<u8>,
}

/// Follows `paths` until `cancel`, checking for new lines every `every`.
pub async fn follow_wim_files(
    paths: Vec<PathBuf>,
    intake: Arc<dyn WimIntake>,
    counters: Arc<WimCounters>,
    stats: Arc<TailStats>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut files: Vec<Followed> = paths
        .into_iter()
        .map(|path| Followed {
            path,
            inode: 0,
            offset: 0,
            line: 0,
            partial: Vec::new(),
        })
        .collect();
    loop {
        if intake.is_ready() {
            for f in &mut files {
                let lines = match read_new_lines(f) {
                    Ok(lines) => lines,
                    Err(e) => {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            warn!(file = %f.path.display(), error = %e, "cannot read WIM file");
                        }
                        continue;
                    }
                };
                for (line_no, line) in lines {
                    ingest_line(&f.path, line_no, &line, &*intake, &counters, &stats);
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

fn ingest_line(
    path: &Path,
    line_no: u64,
    line: &[u8],
    intake: &dyn WimIntake,
    counters: &WimCounters,
    stats: &TailStats,
) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    stats.lines.fetch_add(1, Ordering::Relaxed);
    let records = match parse_wim_json(line) {
        Ok(r) => r,
        Err(e) => {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            counters.malformed.fetch_add(1, Ordering::Relaxed);
            warn!(file = %path.display(), line = line_no, error = %e, "malformed WIM line skipped");
            return;
        }
    };
    for record in records {
        let outcome = intake.ingest(record);
        counters.count(&outcome);
        if let Err(e) = outcome {
            warn!(file = %path.display(), line = line_no, error = %e, "WIM record refused");
        }
    }
}

/// Complete lines appended since the last call, with their 1-based line numbers.
fn read_new_lines(f: &mut Followed) -> std::io::Result<Vec<(u64, Vec<u8>)>> {
    use std::os::unix::fs::MetadataExt;
    let mut file = std::fs::File::open(&f.path)?;
    let meta = file.metadata()?;
    let len = meta.len();
    let rotated = f.inode != 0 && meta.ino() != f.inode;
    f.inode = meta.ino();
    if len < f.offset || rotated {
        warn!(file = %f.path.display(), "WIM file rotated or truncated: reading it from the start");
        f.offset = 0;
        f.line = 0;
        f.partial.clear();
    }
    if len == f.offset {
        return Ok(Vec::new());
    }
    file.seek(SeekFrom::Start(f.offset))?;
    let mut buf = Vec::with_capacity((len - f.offset) as usize);
    file.take(len - f.offset).read_to_end(&mut buf)?;
    f.offset += buf.len() as u64;
    f.partial.extend_from_slice(&buf);
    let mut out = Vec::new();
    while let Some(end) = f.partial.iter().position(|&b| b == b'\n') {
        let rest = f.partial.split_off(end + 1);
        let mut line = std::mem::replace(&mut f.partial, rest);
        line.pop();
        f.line += 1;
        out.push((f.line, line));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn followed(path: &Path) -> Followed {
        Followed {
            path: path.to_path_buf(),
            inode: 0,
            offset: 0,
            line: 0,
            partial: Vec::new(),
        }
    }

    #[test]
    fn partial_lines_wait_and_truncation_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wim.jsonl");
        let mut f = followed(&path);
        assert!(
            read_new_lines(&mut f).is_err(),
            "missing file is an error the loop skips"
        );
        let mut w = std::fs::File::create(&path).unwrap();
        w.write_all(b"a\nb").unwrap();
        let got = read_new_lines(&mut f).unwrap();
        assert_eq!(got, vec![(1, b"a".to_vec())]);
        w.write_all(b"c\nd\n").unwrap();
        let got = read_new_lines(&mut f).unwrap();
        assert_eq!(got, vec![(2, b"bc".to_vec()), (3, b"d".to_vec())]);
        drop(w);
        std::fs::write(&path, b"x\n").unwrap();
        let got = read_new_lines(&mut f).unwrap();
        assert_eq!(got, vec![(1, b"x".to_vec())]);
    }
}
