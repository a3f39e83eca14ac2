//! Decimal text to PostgreSQL's numeric wire form: base-10000 digits, a weight, a sign and a
//! display scale. Exact: no floating point is involved.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a decimal number")]
pub struct NumericError(pub String);

pub(crate) const POSITIVE: u16 = 0x0000;
pub(crate) const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;
/// PostgreSQL's limit on the display scale.
const MAX_DSCALE: i64 = 16383;

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Numeric {
    pub digits: Vec<i16>,
    pub weight: i16,
    pub sign: u16,
    pub dscale: u16,
}

fn special(sign: u16) -> Numeric {
    Numeric {
        digits: Vec::new(),
        weight: 0,
        sign,
        dscale: 0,
    }
}

/// Parse `[+-]digits[.digits][e[+-]digits]`, or NaN / Infinity.
pub(crate) fn parse(text: &str) -> Result<Numeric, NumericError> {
    let err = || NumericError(text.to_string());
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Ok(special(NAN)),
        "inf" | "infinity" | "+inf" | "+infinity" => return Ok(special(PINF)),
        "-inf" | "-infinity" => return Ok(special(NINF)),
        _ => {}
    }
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => {
            let e: i64 = rest[i + 1..].parse().map_err(|_| err())?;
            (&rest[..i], e)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err());
    }
    if exponent.abs() > 100_000 {
        return Err(err());
    }
    // All digits, and the position of the decimal point within them.
    let mut all: Vec<u8> = Vec::with_capacity(int_part.len() + frac_part.len());
    all.extend(int_part.bytes().map(|b| b - b'0'));
    all.extend(frac_part.bytes().map(|b| b - b'0'));
    let point = int_part.len() as i64 + exponent;
    let dscale = (frac_part.len() as i64 - exponent).clamp(0, MAX_DSCALE);

    // Align so that the point falls on a 4-digit group boundary.
    // Digit i (0-based) has decimal position (point - 1 - i) relative to the units digit.
    // Group g covers positions [4g, 4g+3]; leading pad makes point a multiple of 4.
    let lead_pad = (4 - point.rem_euclid(4)) % 4;
    let mut padded: Vec<u8> = Vec::with_capacity(all.len() + 8);
    padded.extend(std::iter::repeat_n(0, lead_pad as usize));
    padded.extend_from_slice(&all);
    while !padded.len().is_multiple_of(4) {
        padded.push(0);
    }
    let int_groups = (point + lead_pad) / 4; // groups before the point
    let mut digits: Vec<i16> = padded
        .chunks(4)
        .map(|c| (c[0] as i16) * 1000 + (c[1] as i16) * 100 + (c[2] as i16) * 10 + c[3] as i16)
        .collect();
    let mut weight = int_groups - 1;
    let lead_zeros = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..lead_zeros);
    weight -= lead_zeros as i64;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        return Ok(Numeric {
            digits,
            weight: 0,
            sign: POSITIVE,
            dscale: dscale as u16,
        });
    }
    if weight > i16::MAX as i64 || weight < i16::MIN as i64 {
        return Err(err());
    }
    Ok(Numeric {
        digits,
        weight: weight as i16,
        sign: if negative { NEGATIVE } else { POSITIVE },
        dscale: dscale as u16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(digits: &[i16], weight: i16, sign: u16, dscale: u16) -> Numeric {
        Numeric {
            digits: digits.to_vec(),
            weight,
            sign,
            dscale,
        }
    }

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("0").unwrap(), n(&[], 0, POSITIVE, 0));
        assert_eq!(
            parse("12345.678").unwrap(),
            n(&[1, 2345, 6780], 1, POSITIVE, 3)
        );
        assert_eq!(parse("-0.0001").unwrap(), n(&[1], -1, NEGATIVE, 4));
        assert_eq!(parse("1e4").unwrap(), n(&[1], 1, POSITIVE, 0));
        assert_eq!(parse("1.5e-3").unwrap(), n(&[15], -1, POSITIVE, 4));
        assert_eq!(parse("10000").unwrap(), n(&[1], 1, POSITIVE, 0));
        assert_eq!(parse(".5").unwrap(), n(&[5000], -1, POSITIVE, 1));
        assert_eq!(parse("NaN").unwrap().sign, NAN);
        assert!(parse("12a").is_err());
        assert!(parse("").is_err());
        assert!(parse("-").is_err());
        assert!(parse("1e").is_err());
    }
}

/// Check that a decimal fits `numeric(precision, scale)` without PostgreSQL rounding it.
///
/// PostgreSQL rounds extra fractional digits silently when a value enters a column with a
/// declared scale; barge refuses such a value instead, so nothing changes without a trace.
pub fn check_typmod(text: &str, precision: u32, scale: u32) -> Result<(), String> {
    let n = parse(text).map_err(|e| e.to_string())?;
    if n.sign != POSITIVE && n.sign != NEGATIVE {
        return Err(format!("cannot be stored in numeric({precision},{scale})"));
    }
    let Some(last) = n.digits.last() else {
        return Ok(());
    };
    // Decimal places actually used by the value (ignoring trailing zeros).
    let last_pos = i64::from(n.weight) - (n.digits.len() as i64 - 1);
    if last_pos < 0 {
        let mut places = -last_pos * 4;
        let mut d = *last;
        while d % 10 == 0 {
            d /= 10;
            places -= 1;
        }
        if places > i64::from(scale) {
            return Err(format!(
                "has {places} decimal places; numeric({precision},{scale}) would round it"
            ));
        }
    }
    if n.weight >= 0 {
        let first = n.digits[0];
        let first_len = if first >= 1000 {
            4
        } else if first >= 100 {
            3
        } else if first >= 10 {
            2
        } else {
            1
        };
        let int_digits = i64::from(n.weight) * 4 + first_len;
        if int_digits > i64::from(precision) - i64::from(scale) {
            return Err(format!(
                "has {int_digits} integer digits; numeric({precision},{scale}) holds {}",
                precision - scale
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod typmod_tests {
    use super::check_typmod;

    #[test]
    fn typmod() {
        assert!(check_typmod("12.34", 4, 2).is_ok());
        assert!(check_typmod("12.340000", 4, 2).is_ok());
        assert!(check_typmod("12.345", 5, 2).is_err());
        assert!(check_typmod("123.4", 4, 2).is_err());
        assert!(check_typmod("99999999.99", 10, 2).is_ok());
        assert!(check_typmod("0.001", 10, 2).is_err());
        assert!(check_typmod("-0.5", 1, 1).is_ok());
        assert!(check_typmod("1e3", 4, 0).is_ok());
        assert!(check_typmod("1e4", 4, 0).is_err());
    }
}
