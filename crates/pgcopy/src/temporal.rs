//! Text and epoch forms of dates and times to PostgreSQL's binary forms (days or microseconds
//! since 2000-01-01, microseconds since midnight).
//!
//! Only exact conversions succeed: a fraction finer than a microsecond, a day that does not
//! exist, or an offset on a value bound for `timestamp` (without time zone) is an error the
//! caller reports with its location, never a silently rounded or shifted value.

/// Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
pub const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemporalError {
    #[error("not a date, time or timestamp in a form barge reads (YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|±HH:MM])")]
    Syntax,
    #[error("no such calendar day")]
    NoSuchDay,
    #[error("more than microsecond precision")]
    TooPrecise,
    #[error("carries a UTC offset, which a timestamp without time zone cannot keep")]
    UnexpectedOffset,
    #[error("outside PostgreSQL's range")]
    OutOfRange,
}

/// Days since 1970-01-01 for a proleptic Gregorian date (the civil-from-days inverse).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day count since 1970-01-01 (proleptic Gregorian); the inverse
/// of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1-12) of `year`, proleptic Gregorian.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Result<(i64, usize), TemporalError> {
        let start = self.pos;
        let mut v: i64 = 0;
        while self.pos < self.s.len() && self.pos - start < max && self.s[self.pos].is_ascii_digit()
        {
            v = v * 10 + i64::from(self.s[self.pos] - b'0');
            self.pos += 1;
        }
        let n = self.pos - start;
        if n < min {
            return Err(TemporalError::Syntax);
        }
        Ok((v, n))
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn done(&self) -> bool {
        self.pos == self.s.len()
    }
}

fn date_part(c: &mut Cursor) -> Result<i64, TemporalError> {
    let (year, _) = c.digits(4, 6)?;
    if !c.eat(b'-') {
        return Err(TemporalError::Syntax);
    }
    let (month, _) = c.digits(1, 2)?;
    if !c.eat(b'-') {
        return Err(TemporalError::Syntax);
    }
    let (day, _) = c.digits(1, 2)?;
    let month = month as u32;
    let day = day as u32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(TemporalError::NoSuchDay);
    }
    Ok(days_from_civil(year, month, day))
}

fn time_part(c: &mut Cursor) -> Result<i64, TemporalError> {
    let (h, _) = c.digits(2, 2)?;
    if !c.eat(b':') {
        return Err(TemporalError::Syntax);
    }
    let (m, _) = c.digits(2, 2)?;
    let mut s = 0;
    let mut micros = 0;
    if c.eat(b':') {
        s = c.digits(2, 2)?.0;
        if c.eat(b'.') {
            let (frac, n) = c.digits(1, 32)?;
            let _ = frac;
            let digits = &c.s[c.pos - n..c.pos];
            if digits.len() > 6 && digits[6..].iter().any(|d| *d != b'0') {
                return Err(TemporalError::TooPrecise);
            }
            for i in 0..6 {
                micros = micros * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
        }
    }
    if h > 24 || m > 59 || s > 60 || (h == 24 && (m, s, micros) != (0, 0, 0)) {
        return Err(TemporalError::Syntax);
    }
    if s == 60 {
        // Leap seconds are not representable exactly.
        return Err(TemporalError::OutOfRange);
    }
    Ok(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

/// Offset in seconds east of UTC: `Z`, `+HH`, `+HHMM`, `+HH:MM` (a space may precede it).
fn offset_part(c: &mut Cursor) -> Result<Option<i64>, TemporalError> {
    c.eat(b' ');
    match c.peek() {
        None => Ok(None),
        Some(b'Z') | Some(b'z') => {
            c.pos += 1;
            Ok(Some(0))
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let (h, _) = c.digits(2, 2)?;
            c.eat(b':');
            let m = if c.done() { 0 } else { c.digits(2, 2)?.0 };
            if h > 15 || m > 59 {
                return Err(TemporalError::Syntax);
            }
            let secs = (h * 60 + m) * 60;
            Ok(Some(if sign == b'-' { -secs } else { secs }))
        }
        _ => Err(TemporalError::Syntax),
    }
}

/// `YYYY-MM-DD` to days since 2000-01-01.
pub fn parse_date(text: &[u8]) -> Result<i32, TemporalError> {
    if let Some(days) = plain_date(text) {
        return days;
    }
    let mut c = Cursor { s: text, pos: 0 };
    let days = date_part(&mut c)?;
    if !c.done() {
        return Err(TemporalError::Syntax);
    }
    i32::try_from(days - PG_EPOCH_DAYS).map_err(|_| TemporalError::OutOfRange)
}

/// The common form `YYYY-MM-DD` (exactly ten bytes), read without a cursor and with unsigned
/// arithmetic: dates are most of what some tables hold. `None`: another form, for the general
/// reader. Gives the same result as the general reader for every input of that form.
fn plain_date(s: &[u8]) -> Option<Result<i32, TemporalError>> {
    let s: &[u8; 10] = s.try_into().ok()?;
    if s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let mut d = [0u32; 8];
    for (out, i) in d.iter_mut().zip([0, 1, 2, 3, 5, 6, 8, 9]) {
        let v = s[i].wrapping_sub(b'0');
        if v > 9 {
            return None;
        }
        *out = u32::from(v);
    }
    let year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
    let month = d[4] * 10 + d[5];
    let day = d[6] * 10 + d[7];
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return Some(Err(TemporalError::NoSuchDay));
    }
    // `days_from_civil` with the year moved 400 years (146,097 days) later, so that every
    // quantity stays positive for years 0 to 9999.
    let y = year + 400 - u32::from(month <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = i64::from(era) * 146_097 + i64::from(doe) - 719_468 - 146_097;
    // Years 0 to 9999 are all within PostgreSQL's date range.
    Some(Ok((days - PG_EPOCH_DAYS) as i32))
}

/// `HH:MM[:SS[.ffffff]]` to microseconds since midnight.
pub fn parse_time(text: &[u8]) -> Result<i64, TemporalError> {
    let mut c = Cursor { s: text, pos: 0 };
    let t = time_part(&mut c)?;
    if !c.done() {
        return Err(TemporalError::Syntax);
    }
    Ok(t)
}

/// A timestamp in text to microseconds since 2000-01-01 00:00:00.
///
/// With `with_time_zone`, an offset is applied to give UTC (no offset means UTC); without it,
/// only a zero offset is accepted. A date alone means midnight.
pub fn parse_timestamp(text: &[u8], with_time_zone: bool) -> Result<i64, TemporalError> {
    let mut c = Cursor { s: text, pos: 0 };
    let days = date_part(&mut c)?;
    let mut micros = 0;
    if c.eat(b' ') || c.eat(b'T') || c.eat(b't') {
        micros = time_part(&mut c)?;
    }
    let offset = offset_part(&mut c)?;
    if !c.done() {
        return Err(TemporalError::Syntax);
    }
    let offset = match offset {
        Some(o) if o != 0 && !with_time_zone => return Err(TemporalError::UnexpectedOffset),
        Some(o) => o,
        None => 0,
    };
    (days - PG_EPOCH_DAYS)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(micros))
        .and_then(|v| v.checked_sub(offset * 1_000_000))
        .ok_or(TemporalError::OutOfRange)
}

/// Unix seconds to microseconds since 2000-01-01.
pub fn from_unix_seconds(secs: i64) -> Result<i64, TemporalError> {
    secs.checked_sub(PG_EPOCH_DAYS * 86_400)
        .and_then(|s| s.checked_mul(1_000_000))
        .ok_or(TemporalError::OutOfRange)
}

/// Fractional Unix seconds to microseconds since 2000-01-01, rounded to the microsecond (a
/// double holds no finer digits for present-day epochs).
pub fn from_unix_seconds_f64(secs: f64) -> Result<i64, TemporalError> {
    // PostgreSQL's timestamp range ends in year 294276: about 9.2e12 seconds.
    if !secs.is_finite() || secs.abs() > 9.0e12 {
        return Err(TemporalError::OutOfRange);
    }
    let micros = (secs * 1e6).round() as i64;
    micros
        .checked_sub(PG_EPOCH_DAYS * MICROS_PER_DAY)
        .ok_or(TemporalError::OutOfRange)
}

#[cfg(test)]
mod tests {

    #[test]
    fn civil_from_days_inverts_days_from_civil() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (1, 1, 1),
            (-4713, 11, 24),
            (9999, 12, 31),
        ] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date(b"2000-01-01"), Ok(0));
        assert_eq!(parse_date(b"1999-12-31"), Ok(-1));
        assert_eq!(parse_date(b"2024-02-29"), Ok(8825));
        assert_eq!(
            parse_date(b"0009-12-04"),
            Ok((days_from_civil(9, 12, 4) - PG_EPOCH_DAYS) as i32)
        );
        assert_eq!(parse_date(b"2023-02-29"), Err(TemporalError::NoSuchDay));
        assert_eq!(parse_date(b"2023-13-01"), Err(TemporalError::NoSuchDay));
        assert_eq!(
            parse_date(b"2023-1-5"),
            Ok((days_from_civil(2023, 1, 5) - PG_EPOCH_DAYS) as i32)
        );
        assert_eq!(parse_date(b"20230105"), Err(TemporalError::Syntax));
        assert_eq!(parse_date(b"2023-01-05x"), Err(TemporalError::Syntax));
    }

    /// The ten-byte fast path agrees with the general reader on every day of years 0 to
    /// 9999 (and on impossible months and days around them).
    #[test]
    fn plain_dates_match_the_general_reader() {
        let general = |t: &[u8]| -> Result<i32, TemporalError> {
            let mut c = Cursor { s: t, pos: 0 };
            let days = date_part(&mut c)?;
            assert!(c.done());
            i32::try_from(days - PG_EPOCH_DAYS).map_err(|_| TemporalError::OutOfRange)
        };
        for year in 0..=9999 {
            for month in 0..=13 {
                for day in [0, 1, 2, 15, 27, 28, 29, 30, 31, 32] {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    assert_eq!(
                        plain_date(text.as_bytes()),
                        Some(general(text.as_bytes())),
                        "{text}"
                    );
                }
            }
        }
        assert_eq!(plain_date(b"2024-1-05"), None);
        assert_eq!(plain_date(b"2024-01-0x"), None);
        assert_eq!(plain_date(b"2024/01/05"), None);
        assert_eq!(parse_date(b"2024-01-1x"), Err(TemporalError::Syntax));
    }

    #[test]
    fn times_and_timestamps() {
        assert_eq!(parse_time(b"00:00:01.5"), Ok(1_500_000));
        assert_eq!(parse_time(b"23:59"), Ok((23 * 60 + 59) * 60_000_000));
        assert_eq!(
            parse_time(b"12:00:00.1234567"),
            Err(TemporalError::TooPrecise)
        );
        assert_eq!(parse_time(b"12:00:00.1234560"), Ok(43_200_123_456));
        assert_eq!(parse_timestamp(b"2000-01-01 00:00:00", false), Ok(0));
        assert_eq!(
            parse_timestamp(b"2000-01-01T00:00:01Z", false),
            Ok(1_000_000)
        );
        assert_eq!(parse_timestamp(b"2000-01-01", false), Ok(0));
        assert_eq!(parse_timestamp(b"2000-01-01 01:00:00+01:00", true), Ok(0));
        assert_eq!(
            parse_timestamp(b"2000-01-01 01:00:00+01:00", false),
            Err(TemporalError::UnexpectedOffset)
        );
        assert_eq!(from_unix_seconds(946_684_800), Ok(0));
        assert_eq!(from_unix_seconds_f64(946_684_800.25), Ok(250_000));
    }
}
