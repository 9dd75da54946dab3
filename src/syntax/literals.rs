//! Reading literal text: numbers with PowerShell's suffixes and
//! multipliers, and backtick escapes.

use super::ast::Literal;

/// Reads a numeric literal as PowerShell does: int if it fits, else long,
/// else double; `kb`..`pb` multiply; `d` makes a decimal, `l` a long.
pub fn parse_number(text: &str) -> Option<Literal> {
    // Every number is ASCII; this also keeps the byte slicing below on
    // character boundaries (a bare word such as `‛r` reaches here).
    if !text.is_ascii() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let (body, mult) = match lower.len().checked_sub(2).map(|i| lower.split_at(i)) {
        Some((b, "kb")) => (b, 1i64 << 10),
        Some((b, "mb")) => (b, 1 << 20),
        Some((b, "gb")) => (b, 1 << 30),
        Some((b, "tb")) => (b, 1 << 40),
        Some((b, "pb")) => (b, 1 << 50),
        _ => (lower.as_str(), 1),
    };
    let is_hex = body.starts_with("0x") || body.starts_with("0b");
    let (body, suffix) = match body.chars().last() {
        Some(c @ ('l' | 'd' | 'u' | 'y' | 'n')) if !(is_hex && c == 'd') => {
            (&body[..body.len() - 1], Some(c))
        }
        _ => (body, None),
    };
    if body.is_empty() {
        return None;
    }
    if let Some(hex) = body.strip_prefix("0x") {
        if hex.is_empty() || hex.len() > 16 {
            return None;
        }
        let n = u64::from_str_radix(hex, 16).ok()?;
        // Hex literals up to 32 bits wrap into int: 0xFFFFFFFF is -1.
        let v = if hex.len() <= 8 && suffix != Some('l') {
            Literal::Int(n as u32 as i32)
        } else {
            Literal::Long(n as i64)
        };
        return scale(v, mult);
    }
    if let Some(bin) = body.strip_prefix("0b") {
        if bin.is_empty() || bin.len() > 64 {
            return None;
        }
        let n = u64::from_str_radix(bin, 2).ok()?;
        let v = if bin.len() <= 32 && suffix != Some('l') {
            Literal::Int(n as u32 as i32)
        } else {
            Literal::Long(n as i64)
        };
        return scale(v, mult);
    }
    let is_real = body.contains(['.', 'e']);
    if is_real && suffix == Some('l') {
        // `1.2L` is the long 1: the real value converted, as PowerShell does.
        let d: f64 = body.parse().ok()?;
        let r = (d * mult as f64).round_ties_even();
        return (r.abs() < 9.2e18).then_some(Literal::Long(r as i64));
    }
    match suffix {
        Some('d') => {
            let d: rust_decimal::Decimal = if body.contains('e') {
                rust_decimal::Decimal::from_scientific(body).ok()?
            } else {
                body.parse().ok()?
            };
            return Some(Literal::Decimal(
                d.checked_mul(rust_decimal::Decimal::from(mult))?,
            ));
        }
        Some('l') if !is_real => return scale(Literal::Long(body.parse().ok()?), mult),
        _ => {}
    }
    if is_real {
        let d: f64 = body.parse().ok()?;
        return Some(Literal::Double(d * mult as f64));
    }
    match body.parse::<i64>() {
        Ok(n) => scale(Literal::integer(n), mult),
        Err(_) => Some(Literal::Double(body.parse::<f64>().ok()? * mult as f64)),
    }
}

fn scale(v: Literal, mult: i64) -> Option<Literal> {
    if mult == 1 {
        return Some(v);
    }
    let n = v.as_i64()?;
    Some(match n.checked_mul(mult) {
        Some(p) => Literal::integer(p),
        None => Literal::Double(n as f64 * mult as f64),
    })
}

/// The character a backtick escape stands for (`` `n `` is a newline).
pub fn escape_char(c: char) -> char {
    match c {
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'e' => '\u{1b}',
        'f' => '\u{c}',
        'v' => '\u{b}',
        other => other,
    }
}

pub fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}')
}

pub fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}' | '\u{201e}')
}

/// Negates a numeric literal, keeping `-2147483648` an int.
pub fn negate_literal(v: &Literal) -> Option<Literal> {
    Some(match v {
        Literal::Int(i) => match i.checked_neg() {
            Some(n) => Literal::Int(n),
            None => Literal::Long(-(*i as i64)),
        },
        Literal::Long(l) => {
            if *l == i32::MAX as i64 + 1 {
                Literal::Int(i32::MIN)
            } else {
                Literal::Long(l.checked_neg()?)
            }
        }
        Literal::Double(d) => Literal::Double(-d),
        Literal::Decimal(d) => Literal::Decimal(-*d),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert!(matches!(parse_number("42"), Some(Literal::Int(42))));
        assert!(matches!(
            parse_number("3000000000"),
            Some(Literal::Long(3000000000))
        ));
        assert!(matches!(parse_number("0xFFFFFFFF"), Some(Literal::Int(-1))));
        assert!(matches!(parse_number("1kb"), Some(Literal::Int(1024))));
        assert!(matches!(parse_number("2.5"), Some(Literal::Double(d)) if d == 2.5));
        assert!(matches!(parse_number("7l"), Some(Literal::Long(7))));
        assert!(matches!(parse_number("1.5d"), Some(Literal::Decimal(_))));
        assert!(parse_number("0x").is_none());
    }
}
