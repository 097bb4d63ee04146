//! Watchlists (布控): plates loaded from CSV files, matched exactly or with one confusable
//! character, within each entry's validity period.
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate};
use xl_schema::china_offset;
use xl_schema::plate::{fits_plate, is_partial_plate, is_valid_plate};

use crate::RulesError;

/// Characters the recogniser commonly confuses with one another.
const CONFUSABLE: [&str; 7] = ["0DQOU", "8B", "5S", "2Z", "17IT", "6G", "4A"];

/// The columns a watchlist file may have; `plate`, `reason` and `list` are required.
const COLUMNS: [&str; 5] = ["plate", "reason", "list", "valid_from", "valid_to"];

/// One listed plate.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEntry {
    /// The plate as listed, trimmed and uppercased.
    pub plate: String,
    pub reason: String,
    /// The list's name (e.g. 盗抢, 逃逸).
    pub list: String,
    /// First instant the entry applies (inclusive).
    pub valid_from: Option<DateTime<FixedOffset>>,
    /// Instant from which the entry no longer applies (exclusive). A `YYYY-MM-DD` end date is
    /// stored as the next local midnight; an RFC 3339 end as one nanosecond after it.
    pub valid_until: Option<DateTime<FixedOffset>>,
}

impl WatchEntry {
    /// True when the entry applies at `ts`.
    pub fn is_valid_at(&self, ts: DateTime<FixedOffset>) -> bool {
        self.valid_from.is_none_or(|f| ts >= f) && self.valid_until.is_none_or(|u| ts < u)
    }

    fn hit(&self, fuzzy: bool, read: &str) -> WatchHit {
        WatchHit {
            plate: self.plate.clone(),
            list: self.list.clone(),
            reason: self.reason.clone(),
            fuzzy,
            read_text: read.to_string(),
        }
    }
}

/// A watchlist match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchHit {
    /// The plate as listed.
    pub plate: String,
    pub list: String,
    pub reason: String,
    /// True when the read differs from the listed plate in one confusable character, or left
    /// one character unread.
    pub fuzzy: bool,
    /// The text that was read.
    pub read_text: String,
}

/// All loaded entries, indexed by plate.
#[derive(Debug, Clone)]
pub struct Watchlist {
    entries: Vec<WatchEntry>,
    by_plate: HashMap<String, Vec<usize>>,
    fuzzy: bool,
}

impl Default for Watchlist {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            by_plate: HashMap::new(),
            fuzzy: true,
        }
    }
}

impl Watchlist {
    /// Loads and merges the given CSV files (fuzzy matching on).
    pub fn from_csv_files(files: &[PathBuf]) -> Result<Self, RulesError> {
        let mut list = Self::default();
        for path in files {
            let file = File::open(path).map_err(|source| RulesError::Io {
                file: path.clone(),
                source,
            })?;
            list.load(&path.display().to_string(), file)?;
        }
        Ok(list)
    }

    /// Loads one CSV text; `name` is used in error messages.
    pub fn from_reader(name: &str, reader: impl Read) -> Result<Self, RulesError> {
        let mut list = Self::default();
        list.load(name, reader)?;
        Ok(list)
    }

    /// Loads the configured files with the configured fuzzy setting.
    pub fn from_config(cfg: &crate::WatchlistConfig) -> Result<Self, RulesError> {
        Ok(Self::from_csv_files(&cfg.files)?.with_fuzzy(cfg.fuzzy))
    }

    /// Turns confusable-character matching on or off.
    pub fn with_fuzzy(mut self, fuzzy: bool) -> Self {
        self.fuzzy = fuzzy;
        self
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[WatchEntry] {
        &self.entries
    }

    /// Adds one entry (plate trimmed and uppercased).
    pub fn push(&mut self, mut entry: WatchEntry) {
        entry.plate = normalise(&entry.plate);
        self.by_plate
            .entry(entry.plate.clone())
            .or_default()
            .push(self.entries.len());
        self.entries.push(entry);
    }

    fn load(&mut self, name: &str, reader: impl Read) -> Result<(), RulesError> {
        let csv_err = |line: u64, message: String| RulesError::Csv {
            file: name.to_string(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .flexible(false)
            .from_reader(reader);
        let headers = rdr.headers().map_err(|e| from_csv(name, &e))?.clone();
        let mut col = [None; 5];
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim_start_matches('\u{feff}').to_ascii_lowercase();
            match COLUMNS.iter().position(|c| *c == h) {
                Some(k) if col[k].is_none() => col[k] = Some(i),
                Some(_) => return Err(csv_err(1, format!("column {h:?} appears twice"))),
                None => {
                    return Err(csv_err(
                        1,
                        format!("unknown column {h:?}; expected {}", COLUMNS.join(",")),
                    ))
                }
            }
        }
        if let Some(k) = (0..3).find(|&k| col[k].is_none()) {
            return Err(csv_err(
                1,
                format!(
                    "missing column {:?}; header must be {}",
                    COLUMNS[k],
                    COLUMNS.join(",")
                ),
            ));
        }
        let mut off_grammar = 0usize;
        let mut first_off_grammar = None;
        for record in rdr.records() {
            let record = record.map_err(|e| from_csv(name, &e))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |k: usize| col[k].and_then(|i| record.get(i)).unwrap_or("");
            let plate = normalise(field(0));
            if plate.is_empty() {
                return Err(csv_err(line, "empty plate".into()));
            }
            let list = field(2).to_string();
            if list.is_empty() {
                return Err(csv_err(line, "empty list name".into()));
            }
            let valid_from = parse_bound(field(3), false).map_err(|e| csv_err(line, e))?;
            let valid_until = parse_bound(field(4), true).map_err(|e| csv_err(line, e))?;
            if let (Some(f), Some(u)) = (valid_from, valid_until) {
                if f >= u {
                    return Err(csv_err(line, "valid_from is not before valid_to".into()));
                }
            }
            if !is_valid_plate(&plate) {
                off_grammar += 1;
                first_off_grammar.get_or_insert((line, plate.clone()));
            }
            self.push(WatchEntry {
                plate,
                reason: field(1).to_string(),
                list,
                valid_from,
                valid_until,
            });
        }
        if let Some((line, plate)) = first_off_grammar {
            // Special plates (military, embassy, temporary) are legitimately listed; say so once.
            tracing::warn!(file = name, count = off_grammar, first_line = line, first_plate = %plate,
                "watchlist plates that do not follow the civil plate grammar; kept");
        }
        Ok(())
    }

    /// The entries that `text` hits at `ts`: exact matches first, then (when fuzzy matching is
    /// on) entries differing from the text in exactly one non-province position where both
    /// characters are in the same confusable group. One hit per listed plate and list.
    ///
    /// A partial read (one character unread, `?`) hits, as fuzzy, every entry that agrees with it
    /// on all the characters that were read: a listed vehicle whose province the recogniser could
    /// not make out is still worth an analyst's look.
    pub fn check(&self, text: &str, ts: DateTime<FixedOffset>) -> Vec<WatchHit> {
        let read = normalise(text);
        let mut hits = Vec::new();
        let mut seen = HashSet::new();
        if is_partial_plate(&read) {
            if self.fuzzy {
                for e in &self.entries {
                    if fits_plate(&read, &e.plate, 1)
                        && e.is_valid_at(ts)
                        && seen.insert((e.plate.as_str(), e.list.as_str()))
                    {
                        hits.push(e.hit(true, &read));
                    }
                }
            }
            return hits;
        }
        self.collect(&read, &read, false, ts, &mut seen, &mut hits);
        if self.fuzzy && !read.is_empty() {
            let chars: Vec<char> = read.chars().collect();
            let mut variant = chars.clone();
            for i in 1..chars.len() {
                let Some(group) = CONFUSABLE.iter().find(|g| g.contains(chars[i])) else {
                    continue;
                };
                for alt in group.chars().filter(|&c| c != chars[i]) {
                    variant[i] = alt;
                    let key: String = variant.iter().collect();
                    self.collect(&key, &read, true, ts, &mut seen, &mut hits);
                }
                variant[i] = chars[i];
            }
        }
        hits
    }

    fn collect<'a>(
        &'a self,
        key: &str,
        read: &str,
        fuzzy: bool,
        ts: DateTime<FixedOffset>,
        seen: &mut HashSet<(&'a str, &'a str)>,
        hits: &mut Vec<WatchHit>,
    ) {
        for &i in self.by_plate.get(key).into_iter().flatten() {
            let e = &self.entries[i];
            if e.is_valid_at(ts) && seen.insert((e.plate.as_str(), e.list.as_str())) {
                hits.push(e.hit(fuzzy, read));
            }
        }
    }
}

fn normalise(plate: &str) -> String {
    plate.trim().to_uppercase()
}

fn from_csv(name: &str, e: &csv::Error) -> RulesError {
    RulesError::Csv {
        file: name.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

/// Parses a validity bound: empty, `YYYY-MM-DD` (local midnight; for an end, the midnight after
/// that day) or RFC 3339 (for an end, inclusive).
fn parse_bound(text: &str, is_end: bool) -> Result<Option<DateTime<FixedOffset>>, String> {
    let which = if is_end { "valid_to" } else { "valid_from" };
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if is_end { date.succ_opt() } else { Some(date) };
        let midnight = day
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(china_offset()).single())
            .ok_or_else(|| format!("{which} {text:?} is out of range"))?;
        return Ok(Some(midnight));
    }
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) if is_end => Ok(Some(t + chrono::Duration::nanoseconds(1))),
        Ok(t) => Ok(Some(t)),
        Err(_) => Err(format!(
            "{which} {text:?} is neither YYYY-MM-DD nor an RFC 3339 time"
        )),
    }
}

#[cfg(test)]
mod tests;
