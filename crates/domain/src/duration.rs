//! Go-style durations as ZITADEL's configuration and API use them: `500ms`, `30s`, `1.5m`,
//! `6h`, `1h30m` (a sequence of number-unit pairs; units ns, us/µs, ms, s, m, h).

use std::time::Duration;

/// Parses a Go duration; as in Go, a number needs a unit (only `0` stands alone). Negative
/// values are refused.
pub fn parse(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration such as 500ms, 30s, 6h or 1h30m");
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let n: f64 = num.parse().map_err(|_| bad())?;
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = next;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let d = |s| parse(s).ok();
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("6h"), Some(Duration::from_secs(6 * 3600)));
        assert_eq!(d("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(d("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(d("0"), Some(Duration::ZERO));
        for bad in ["", "7", "h", "5x", "-1s", "1h-", "abc", "1..2s"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
