//! Log time: one UTC instant in nanoseconds, and the context needed to
//! turn the partial stamps that logs carry into it.
//!
//! Every stage compares times as plain integers, so a [`Timestamp`] is a
//! thin wrapper around nanoseconds since the Unix epoch. The hard part is
//! elsewhere: syslog stamps have no year and no zone, Python and Celery
//! stamps have no zone, and kernel stamps are seconds since boot. A
//! [`Clock`] holds what is needed to complete them (year, zone offset,
//! boot time) and is owned per source, because two files can come from
//! two hosts.

use std::cell::Cell;
use std::fmt;

use chrono::{
    DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, Offset,
    TimeZone, Utc,
};

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A UTC instant, in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `secs` seconds and `nanos` nanoseconds after the epoch.
    pub fn from_parts(secs: i64, nanos: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(NANOS_PER_SEC).saturating_add(nanos))
    }

    /// Whole seconds since the epoch, rounded down.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// The signed distance `self - earlier`, in nanoseconds.
    pub fn since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This instant moved by `nanos` (negative moves it back).
    pub fn shifted(self, nanos: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// RFC 3339 in UTC with millisecond precision, as the JSON output
    /// contract requires: `2026-12-03T12:34:08.875Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// `12:34:08.875` in UTC, for short human messages.
    pub fn clock_time(self) -> String {
        match DateTime::<Utc>::from_timestamp(
            self.secs(),
            self.0.rem_euclid(NANOS_PER_SEC) as u32,
        ) {
            Some(dt) => dt.format("%H:%M:%S%.3f").to_string(),
            None => format!("@{}", self.0),
        }
    }

    /// Parse RFC 3339 (`2026-12-03T12:00:01.5Z`, `...+01:00`) or epoch
    /// seconds with an optional fraction (`1764763201.25`).
    pub fn parse_user(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
            return Some(from_chrono(dt.with_timezone(&Utc)));
        }
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let secs: i64 = whole.parse().ok()?;
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Timestamp::from_parts(secs, fraction_nanos(frac.as_bytes())))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp(
            self.secs(),
            self.0.rem_euclid(NANOS_PER_SEC) as u32,
        ) {
            Some(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            None => write!(f, "@{}ns", self.0),
        }
    }
}

/// Format a duration in nanoseconds the way people say it: `850 ms`,
/// `2.5 s`, `61 s`, `3 min 5 s`.
pub fn human_duration(nanos: i64) -> String {
    let nanos = nanos.unsigned_abs();
    let ms = nanos / 1_000_000;
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 120_000 {
        format!("{} s", ms / 1000)
    } else {
        format!("{} min {} s", ms / 60_000, (ms / 1000) % 60)
    }
}

/// Parse a duration as rule files write it: `90s`, `2.5s`, `500ms`,
/// `2m`, `1h`. Returns nanoseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" | "" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    let nanos = value * scale;
    (0.0..1e18).contains(&nanos).then_some(nanos as i64)
}

/// Nanoseconds from the digits after a decimal point (`"719"` is 719 ms).
/// Digits past the ninth are ignored.
pub fn fraction_nanos(digits: &[u8]) -> i64 {
    let mut nanos = 0i64;
    for i in 0..9 {
        nanos *= 10;
        if let Some(&d) = digits.get(i) {
            nanos += i64::from(d - b'0');
        }
    }
    nanos
}

fn from_chrono(dt: DateTime<Utc>) -> Timestamp {
    Timestamp::from_parts(
        dt.timestamp(),
        i64::from(dt.timestamp_subsec_nanos()),
    )
}

/// The zone that stamps without an offset are read in.
#[derive(Clone, Copy, Debug)]
pub enum Zone {
    /// A fixed offset from UTC, from `--tz +02:00` or `--tz UTC`.
    Fixed(FixedOffset),
    /// The local zone of this machine (`TZ` or `/etc/localtime`), with
    /// its daylight-saving rules.
    Local,
}

impl Zone {
    /// Parse `--tz`: `UTC`, `Z`, `local`, or an offset such as `+02:00`,
    /// `-0500`.
    pub fn parse(text: &str) -> Option<Zone> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Some(Zone::Fixed(FixedOffset::east_opt(0)?));
        }
        if t.eq_ignore_ascii_case("local") {
            return Some(Zone::Local);
        }
        let (sign, rest) = match t.as_bytes().first()? {
            b'+' => (1, &t[1..]),
            b'-' => (-1, &t[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i32 = digits[..2].parse().ok()?;
        let minutes: i32 = digits[2..].parse().ok()?;
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
            .map(Zone::Fixed)
    }

    /// The UTC instant of a wall-clock time read in this zone. An
    /// ambiguous local time (the hour repeated when clocks go back) takes
    /// the earlier instant; a skipped one is read as if in standard time.
    pub fn resolve(self, naive: NaiveDateTime) -> Timestamp {
        let utc = match self {
            Zone::Fixed(off) => off
                .from_local_datetime(&naive)
                .single()
                .map(|d| d.with_timezone(&Utc)),
            Zone::Local => Local
                .from_local_datetime(&naive)
                .earliest()
                .map(|d| d.with_timezone(&Utc))
                .or_else(|| {
                    let off = Local.offset_from_utc_datetime(&naive).fix();
                    off.from_local_datetime(&naive)
                        .single()
                        .map(|d| d.with_timezone(&Utc))
                }),
        };
        utc.map(from_chrono)
            .unwrap_or_else(|| from_chrono(naive.and_utc()))
    }

    /// Whether every wall time of the hour from `date` `hour`:00 reads as
    /// the hour's first instant plus its minutes and seconds: always at a
    /// fixed offset; in the local zone, where no change of offset falls
    /// in the hour (it is neither repeated nor skipped, and its first and
    /// last second have the same offset). A reader may then read a whole
    /// hour's stamps from one of them.
    pub fn hour_is_linear(self, date: CivilDate, hour: u32) -> bool {
        match self {
            Zone::Fixed(_) => true,
            Zone::Local => hour_is_linear_in(date, hour, |naive| {
                Local
                    .from_local_datetime(&naive)
                    .single()
                    .map(|d| d.offset().fix().local_minus_utc())
            }),
        }
    }
}

/// [`Zone::hour_is_linear`] for a zone given as the offset of a wall
/// time, `None` where the wall time is repeated or skipped. Two changes
/// of offset in one hour that cancel out would pass; no zone has them.
fn hour_is_linear_in(
    (year, month, day): CivilDate,
    hour: u32,
    offset_of: impl Fn(NaiveDateTime) -> Option<i32>,
) -> bool {
    let at = |minute, second| {
        NaiveDate::from_ymd_opt(year, month, day)?
            .and_hms_opt(hour, minute, second)
            .and_then(&offset_of)
    };
    matches!((at(0, 0), at(59, 59)), (Some(a), Some(b)) if a == b)
}

/// A calendar date: year, month, day.
pub type CivilDate = (i32, u32, u32);

/// What a source needs to complete partial stamps into UTC instants.
#[derive(Clone, Debug)]
pub struct Clock {
    /// Zone for stamps that carry none (syslog, Python, Celery).
    pub zone: Zone,
    /// The year assumed for syslog stamps, which have none: the year of
    /// the file's modification time, or of now for a stream.
    pub year: i32,
    /// The month of the reference time (1-12). A stamp in a later month
    /// than this is taken to be from the year before: a file modified
    /// in January that starts in December.
    pub reference_month: u32,
    /// Wall time of boot, to turn kernel monotonic stamps into UTC.
    pub boot_time: Option<Timestamp>,
    /// True when `boot_time` is certain (given by `--boot-time`, or
    /// learned from a line with both stamps); a guess from this host's
    /// `/proc/stat` gives way to what the logs themselves say.
    pub boot_time_known: bool,
    /// The last date a stamp was read on, and its day number: lines in
    /// a row nearly always share it, and replay reads every line's time.
    last_day: Cell<Option<(CivilDate, i64)>>,
}

impl Clock {
    /// A clock whose year is taken from `reference` (a file's mtime, or
    /// now).
    pub fn new(zone: Zone, reference: Timestamp) -> Clock {
        let dt = DateTime::<Utc>::from_timestamp(reference.secs(), 0)
            .unwrap_or_default();
        Clock {
            zone,
            year: dt.year(),
            reference_month: dt.month(),
            boot_time: None,
            boot_time_known: false,
            last_day: Cell::new(None),
        }
    }

    /// The year a syslog stamp of `month` belongs to.
    pub fn year_for_month(&self, month: u32) -> i32 {
        if month > self.reference_month {
            self.year - 1
        } else {
            self.year
        }
    }

    /// A wall-clock date and time, read in this clock's zone.
    pub fn local(
        &self,
        date: (i32, u32, u32),
        time: (u32, u32, u32),
        nanos: i64,
    ) -> Option<Timestamp> {
        // A fixed offset needs no calendar of zone rules: plain
        // arithmetic, which every line of a replay pays for.
        if let Zone::Fixed(off) = self.zone {
            let days = match self.last_day.get() {
                Some((d, days)) if d == date => days,
                _ => {
                    let days = days_from_civil(date.0, date.1, date.2)?;
                    self.last_day.set(Some((date, days)));
                    days
                }
            };
            return utc_from_days(days, time, nanos, off.local_minus_utc());
        }
        let naive = NaiveDate::from_ymd_opt(date.0, date.1, date.2)?
            .and_hms_opt(time.0, time.1, time.2)?;
        Some(self.zone.resolve(naive).shifted(nanos))
    }

    /// A kernel monotonic stamp (nanoseconds since boot) as UTC, when the
    /// boot time is known.
    pub fn from_monotonic(&self, since_boot: i64) -> Option<Timestamp> {
        self.boot_time.map(|boot| boot.shifted(since_boot))
    }
}

/// Build a UTC instant from explicit fields and an offset in seconds.
///
/// Returns `None` for a date or time that does not exist (February 30,
/// hour 24, or a leap second `:60`, which chrono refuses as well).
pub fn utc_from_fields(
    date: (i32, u32, u32),
    time: (u32, u32, u32),
    nanos: i64,
    offset_secs: i32,
) -> Option<Timestamp> {
    utc_from_days(
        days_from_civil(date.0, date.1, date.2)?,
        time,
        nanos,
        offset_secs,
    )
}

/// [`utc_from_fields`] for a date already turned into its day number.
fn utc_from_days(
    days: i64,
    time: (u32, u32, u32),
    nanos: i64,
    offset_secs: i32,
) -> Option<Timestamp> {
    let (h, m, s) = time;
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let secs = days * 86_400 + i64::from(h * 3600 + m * 60 + s)
        - i64::from(offset_secs);
    Some(Timestamp::from_parts(secs, nanos))
}

/// Writes instants as [`Timestamp::to_rfc3339`] does, without a format
/// string to interpret or a `String` per instant, and with the date of
/// the last day written kept: a JSON line per record has one, and lines
/// in a row nearly always share their day.
#[derive(Debug, Default)]
pub struct Rfc3339Writer {
    /// The day number and `YYYY-MM-DDT` of the last day written.
    day: Option<(i64, [u8; 11])>,
}

impl Rfc3339Writer {
    /// Write `t` to `out`: `2026-12-03T12:34:08.875Z`, the fraction cut
    /// (not rounded) to milliseconds, exactly as `to_rfc3339` gives it.
    pub fn write(
        &mut self,
        t: Timestamp,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let secs = t.0.div_euclid(NANOS_PER_SEC);
        let millis = t.0.rem_euclid(NANOS_PER_SEC) / 1_000_000;
        let (day, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let date = match self.day {
            Some((d, date)) if d == day => date,
            _ => match civil_from_days(day) {
                // Four-digit years only: chrono writes others with a sign.
                Some((y, m, d)) if (0..=9999).contains(&y) => {
                    let mut date = *b"0000-00-00T";
                    put_digits(&mut date[..4], y as u32);
                    put_digits(&mut date[5..7], m);
                    put_digits(&mut date[8..10], d);
                    self.day = Some((day, date));
                    date
                }
                _ => return out.write_all(t.to_rfc3339().as_bytes()),
            },
        };
        let mut clock = *b"00:00:00.000Z";
        put_digits(&mut clock[..2], (sod / 3600) as u32);
        put_digits(&mut clock[3..5], (sod / 60 % 60) as u32);
        put_digits(&mut clock[6..8], (sod % 60) as u32);
        put_digits(&mut clock[9..12], millis as u32);
        let mut all = [0; 24];
        all[..11].copy_from_slice(&date);
        all[11..].copy_from_slice(&clock);
        out.write_all(&all)
    }
}

/// Write `n` into `to` as decimal digits, zero-padded to its length.
fn put_digits(to: &mut [u8], mut n: u32) {
    for b in to.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01):
/// the inverse of [`days_from_civil`], by the same era arithmetic.
fn civil_from_days(days: i64) -> Option<(i64, u32, u32)> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` when
/// the date does not exist. The era arithmetic is the well-known one for
/// civil calendars; it needs no table and no allocation.
fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || !(-262_000..=262_000).contains(&y) {
        return None;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d == 0 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Now, as a [`Timestamp`].
pub fn now() -> Timestamp {
    from_chrono(Utc::now())
}

/// The boot time of this host from `/proc/stat` (`btime`), to read this
/// host's kernel stamps.
pub fn host_boot_time() -> Option<Timestamp> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(|s| Timestamp::from_parts(s, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    /// The quick writer against chrono's formatting, on instants around
    /// day and leap-day edges, at both ends of what nanoseconds in an
    /// `i64` hold (1677 to 2262), and spread over four centuries, in one
    /// writer so that its kept day is tested too.
    #[test]
    fn rfc3339_writer_agrees_with_chrono() {
        let mut writer = Rfc3339Writer::default();
        let mut instants = vec![
            0,
            -1,
            NANOS_PER_SEC - 1,
            951_782_400 * NANOS_PER_SEC - 1,
            951_782_400 * NANOS_PER_SEC,
            1_764_765_248_875_999_999,
            i64::MIN,
            i64::MAX,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % (400 * 366 * 86_400)) as i64 - 200 * 366 * 86_400;
            instants
                .push(secs * NANOS_PER_SEC + (x >> 40) as i64 % NANOS_PER_SEC);
            instants.push((secs + 1) * NANOS_PER_SEC);
        }
        for t in instants {
            let mut out = Vec::new();
            writer.write(Timestamp(t), &mut out).expect("written");
            assert_eq!(
                String::from_utf8(out).unwrap(),
                Timestamp(t).to_rfc3339(),
                "{t}"
            );
        }
    }

    #[test]
    fn civil_from_days_inverts_days_from_civil() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days).unwrap();
            assert_eq!(days_from_civil(y as i32, m, d), Some(days));
        }
    }

    /// SYNTHETIC zones as an offset function: an hour reads as one piece
    /// only where both its ends have one offset, the same.
    #[test]
    fn an_hour_is_linear_only_without_a_change_of_offset() {
        let day = (2026, 3, 29);
        let constant = |_: NaiveDateTime| Some(3600);
        assert!(hour_is_linear_in(day, 1, constant));
        // Clocks go forward at 02:00 (02:00 to 03:00 does not exist) and
        // back at 02:00 on another day (02:00 to 03:00 happens twice).
        let forward = |n: NaiveDateTime| match n.hour() {
            2 => None,
            h if h < 2 => Some(3600),
            _ => Some(7200),
        };
        assert!(hour_is_linear_in(day, 1, forward));
        assert!(!hour_is_linear_in(day, 2, forward));
        assert!(hour_is_linear_in(day, 3, forward));
        let back = |n: NaiveDateTime| match n.hour() {
            2 => None,
            h if h < 2 => Some(7200),
            _ => Some(3600),
        };
        assert!(!hour_is_linear_in(day, 2, back));
        // A change at half past, as where the offset moves by 30 minutes.
        let half = |n: NaiveDateTime| {
            Some(if n.hour() * 60 + n.minute() < 150 {
                37800
            } else {
                39600
            })
        };
        assert!(!hour_is_linear_in(day, 2, half));
        assert!(hour_is_linear_in(day, 3, half));
        assert!(
            !hour_is_linear_in((2026, 2, 30), 1, constant),
            "no such day"
        );
        assert!(Zone::parse("+05:30").unwrap().hour_is_linear(day, 2));
    }

    #[test]
    fn formats_rfc3339_with_millis() {
        let t = Timestamp::from_parts(1_764_765_248, 875_000_000);
        assert_eq!(t.to_rfc3339(), "2025-12-03T12:34:08.875Z");
    }

    #[test]
    fn parses_user_times() {
        let a = Timestamp::parse_user("2026-12-03T12:00:01.5Z").unwrap();
        let b = Timestamp::parse_user("2026-12-03T13:00:01.5+01:00").unwrap();
        assert_eq!(a, b);
        let e = Timestamp::parse_user("1764763201.25").unwrap();
        assert_eq!(e.0, 1_764_763_201_250_000_000);
        assert!(Timestamp::parse_user("yesterday").is_none());
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90s"), Some(90 * NANOS_PER_SEC));
        assert_eq!(parse_duration("2.5s"), Some(2_500_000_000));
        assert_eq!(parse_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_duration("2m"), Some(120 * NANOS_PER_SEC));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn syslog_year_rolls_back_over_new_year() {
        let jan = Timestamp::parse_user("2027-01-02T00:00:00Z").unwrap();
        let clock = Clock::new(Zone::parse("UTC").unwrap(), jan);
        assert_eq!(clock.year_for_month(12), 2026);
        assert_eq!(clock.year_for_month(1), 2027);
    }

    #[test]
    fn calendar_arithmetic_agrees_with_chrono() {
        let mut day = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        let end = NaiveDate::from_ymd_opt(2101, 3, 5).unwrap();
        while day < end {
            let want = day.and_hms_opt(13, 4, 5).unwrap().and_utc();
            let got = utc_from_fields(
                (day.year(), day.month(), day.day()),
                (13, 4, 5),
                7,
                -3600,
            );
            assert_eq!(
                got,
                Some(Timestamp(
                    from_chrono(want).0 + 3600 * NANOS_PER_SEC + 7
                ))
            );
            day = day.succ_opt().unwrap();
        }
        assert_eq!(utc_from_fields((2026, 2, 29), (0, 0, 0), 0, 0), None);
        assert_eq!(utc_from_fields((2026, 13, 1), (0, 0, 0), 0, 0), None);
        assert_eq!(utc_from_fields((2026, 1, 1), (24, 0, 0), 0, 0), None);
        assert!(utc_from_fields((2028, 2, 29), (0, 0, 0), 0, 0).is_some());
    }

    #[test]
    fn zones_parse() {
        assert!(matches!(Zone::parse("+02:00"), Some(Zone::Fixed(_))));
        assert!(matches!(Zone::parse("-0500"), Some(Zone::Fixed(_))));
        assert!(Zone::parse("Mars/Olympus").is_none());
    }
}
