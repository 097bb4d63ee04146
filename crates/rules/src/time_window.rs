//! Daily time windows such as `07:00-09:00` or `22:00-06:00`, judged in China local time.
use std::fmt;

use chrono::{DateTime, FixedOffset, Timelike};
use xl_schema::china_offset;

const MINUTES_PER_DAY: u16 = 24 * 60;
const MS_PER_MINUTE: u32 = 60_000;

/// A daily window in China local time (UTC+8, no DST): `start` inclusive, `end` exclusive, in
/// minutes since local midnight. `end` may be 1440 (`24:00`); a window whose end is before its
/// start crosses midnight (`22:00-06:00` is 22:00 to 06:00 the next morning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    start: u16,
    end: u16,
}

impl TimeWindow {
    /// Parses `HH:MM-HH:MM` (hours 0..=23, or 24:00 as an end only). Equal start and end are
    /// rejected: write `00:00-24:00` for all day.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| format!("time window {text:?} is not HH:MM-HH:MM"))?;
        let start = parse_hhmm(a.trim(), false)
            .ok_or_else(|| format!("time window {text:?}: bad start {:?}", a.trim()))?;
        let end = parse_hhmm(b.trim(), true)
            .ok_or_else(|| format!("time window {text:?}: bad end {:?}", b.trim()))?;
        if start == end {
            return Err(format!(
                "time window {text:?} is empty (start equals end); use 00:00-24:00 for all day"
            ));
        }
        Ok(Self { start, end })
    }

    /// Start, minutes since local midnight.
    pub fn start_minutes(&self) -> u16 {
        self.start
    }

    /// End (exclusive), minutes since local midnight; 1440 for `24:00`.
    pub fn end_minutes(&self) -> u16 {
        self.end
    }

    /// True when `ts`, converted to China local time, falls in the window.
    pub fn contains(&self, ts: DateTime<FixedOffset>) -> bool {
        let local = ts.with_timezone(&china_offset());
        // A leap second reports nanoseconds >= 1e9; clamp it into the last millisecond.
        let ms =
            local.num_seconds_from_midnight() * 1000 + (local.nanosecond() / 1_000_000).min(999);
        let start = u32::from(self.start) * MS_PER_MINUTE;
        let end = u32::from(self.end) * MS_PER_MINUTE;
        if self.start < self.end {
            ms >= start && ms < end
        } else {
            ms >= start || ms < end
        }
    }
}

fn parse_hhmm(s: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 {
        return None;
    }
    match h {
        0..=23 => Some(h * 60 + m),
        24 if allow_24 && m == 0 => Some(MINUTES_PER_DAY),
        _ => None,
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2024-05-01T{s}+08:00")).unwrap()
    }

    #[test]
    fn night_window_crosses_midnight_with_exact_boundaries() {
        let w = TimeWindow::parse("22:00-06:00").unwrap();
        assert!(!w.contains(local("21:59:59.999")));
        assert!(w.contains(local("22:00:00")));
        assert!(w.contains(local("23:59:59.999")));
        assert!(w.contains(local("00:00:00")));
        assert!(w.contains(local("05:59:59")));
        assert!(w.contains(local("05:59:59.999")));
        assert!(!w.contains(local("06:00:00")));
        assert!(!w.contains(local("12:00:00")));
    }

    #[test]
    fn day_window_is_start_inclusive_end_exclusive() {
        let w = TimeWindow::parse("07:00-09:30").unwrap();
        assert!(!w.contains(local("06:59:59.999")));
        assert!(w.contains(local("07:00:00")));
        assert!(w.contains(local("09:29:59.999")));
        assert!(!w.contains(local("09:30:00")));
    }

    #[test]
    fn timestamps_in_utc_are_judged_in_china_time() {
        let w = TimeWindow::parse("22:00-06:00").unwrap();
        // 14:00Z is 22:00 in Beijing.
        let utc = |s: &str| DateTime::parse_from_rfc3339(&format!("2024-05-01T{s}Z")).unwrap();
        assert!(w.contains(utc("14:00:00")));
        assert!(!w.contains(utc("13:59:59")));
        assert!(w.contains(utc("21:59:59")), "05:59:59 local");
        assert!(!w.contains(utc("22:00:00")), "06:00 local");
        let ny = DateTime::parse_from_rfc3339("2024-05-01T10:30:00-04:00").unwrap();
        assert!(w.contains(ny), "14:30Z is 22:30 local");
    }

    #[test]
    fn end_of_day_and_all_day() {
        let w = TimeWindow::parse("20:00-24:00").unwrap();
        assert!(w.contains(local("23:59:59.999")));
        assert!(!w.contains(local("00:00:00")));
        assert!(!w.contains(local("19:59:59")));
        let all = TimeWindow::parse("00:00-24:00").unwrap();
        assert!(all.contains(local("00:00:00")));
        assert!(all.contains(local("23:59:59.999")));
        assert_eq!(all.to_string(), "00:00-24:00");
        assert_eq!(
            TimeWindow::parse(" 7:05 - 9:00 ").unwrap().to_string(),
            "07:05-09:00"
        );
    }

    #[test]
    fn bad_windows_are_rejected_with_the_text() {
        for bad in [
            "22:00-22:00",
            "24:00-06:00",
            "22:00",
            "22:60-23:00",
            "25:00-26:00",
            "22:00-24:01",
            "a:00-06:00",
            "22:0-06:00",
            "-22:00-06:00",
        ] {
            let err = TimeWindow::parse(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }
}
