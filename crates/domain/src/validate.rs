//! Field validation with errors that name the field and the rule.

use crate::error::{Error, Result};

/// Maximum length of names and other short texts.
pub const MAX_NAME: usize = 200;

/// Trims `value` and checks it is between 1 and `max` characters.
pub fn required(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(
            "VALID-r1q0a",
            "Errors.Invalid.Argument",
            format!("{field} must not be empty"),
        ));
    }
    optional(field, v, max)
}

/// Checks an optional text is at most `max` characters.
pub fn optional(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(Error::invalid(
            "VALID-l3nG7",
            "Errors.Invalid.Argument",
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Domain names, lower-cased: at most 253 characters, at least two labels, each label 1-63
/// characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
pub fn domain(field: &'static str, value: &str) -> Result<String> {
    let v = value.trim().to_lowercase();
    let bad = |why: &str| {
        Err(Error::invalid(
            "VALID-d0m4n",
            "Errors.Invalid.Argument",
            format!("{field} {why}"),
        ))
    };
    if v.is_empty() {
        return bad("must not be empty");
    }
    if v.len() > 253 {
        return bad("must be at most 253 characters");
    }
    let labels: Vec<&str> = v.split('.').collect();
    if labels.len() < 2 {
        return bad("must have at least two labels");
    }
    for l in labels {
        if l.is_empty() || l.len() > 63 {
            return bad("labels must be 1 to 63 characters");
        }
        if !l
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return bad("labels may only hold a-z, 0-9 and '-'");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return bad("labels must not start or end with '-'");
        }
    }
    Ok(v)
}

/// Usernames: 1-200 characters, no whitespace.
pub fn username(field: &'static str, value: &str) -> Result<String> {
    let v = required(field, value, MAX_NAME)?;
    if v.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            "VALID-uSr2w",
            "Errors.Invalid.Argument",
            format!("{field} must not contain whitespace"),
        ));
    }
    Ok(v)
}

/// A syntactically valid email address (local@domain.tld, no spaces), lower-cased domain.
pub fn email(field: &'static str, value: &str) -> Result<String> {
    let v = value.trim();
    let bad = || {
        Error::new(
            crate::error::Kind::InvalidArgument,
            "EMAIL-599BI",
            "Errors.User.Email.Invalid",
        )
        .with(format!("{field} is not a valid email address"))
    };
    if v.is_empty() || v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = v.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || local.contains('@') && !local.starts_with('"') {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
        || !domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
    {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// A phone number normalised to E.164 (`+` and 7 to 15 digits); spaces, dashes, dots and
/// parentheses are removed, a leading `00` becomes `+`.
pub fn phone(field: &'static str, value: &str) -> Result<String> {
    let bad = || {
        Error::new(
            crate::error::Kind::InvalidArgument,
            "PHONE-so0wa",
            "Errors.User.Phone.Invalid",
        )
        .with(format!(
            "{field} must be an international number such as +41 71 123 45 67"
        ))
    };
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = if let Some(d) = cleaned.strip_prefix('+') {
        d.to_string()
    } else if let Some(d) = cleaned.strip_prefix("00") {
        d.to_string()
    } else {
        return Err(bad());
    };
    if !(7..=15).contains(&digits.len())
        || !digits.chars().all(|c| c.is_ascii_digit())
        || digits.starts_with('0')
    {
        return Err(bad());
    }
    Ok(format!("+{digits}"))
}

/// Metadata keys: 1-200 characters.
pub fn metadata_key(value: &str) -> Result<String> {
    let k = value.trim();
    if k.is_empty() || k.chars().count() > MAX_NAME {
        return Err(Error::invalid(
            "META-2ml0f",
            "Errors.Metadata.Invalid",
            "key must be 1 to 200 characters",
        ));
    }
    Ok(k.to_string())
}

/// Metadata values: non-empty, at most 500 KiB.
pub fn metadata_value(value: &[u8]) -> Result<()> {
    if value.is_empty() || value.len() > 500 * 1024 {
        return Err(Error::invalid(
            "META-ad9f2",
            "Errors.Metadata.Invalid",
            "value must be 1 byte to 500 KiB",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(
            domain("domain", " Example.COM ").expect("valid"),
            "example.com"
        );
        assert!(domain("domain", "a-b.c0.io").is_ok());
        for bad in [
            "", "example", "-a.com", "a-.com", "a..com", "a_b.com", "a b.com", ".com", "com.",
        ] {
            assert!(domain("domain", bad).is_err(), "{bad}");
        }
        assert!(domain("domain", &format!("{}.com", "a".repeat(64))).is_err());
        assert!(domain("domain", &format!("{}.com", "a".repeat(63))).is_ok());
        let long = vec!["a".repeat(60); 5].join(".");
        assert!(domain("domain", &long).is_err());
        let e = domain("domain", "x").expect_err("invalid");
        assert!(format!("{e:?}").contains("domain"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("email", " a.b@Example.COM ").ok().as_deref(),
            Some("a.b@example.com")
        );
        for bad in [
            "", "a", "a@b", "a b@c.de", "@c.de", "a@.de", "a@c..de", "a@-c.de",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            phone("phone", "+41 (71) 123-45-67").ok().as_deref(),
            Some("+41711234567")
        );
        assert_eq!(
            phone("phone", "0041711234567").ok().as_deref(),
            Some("+41711234567")
        );
        for bad in [
            "",
            "12345",
            "+12",
            "+41abc1234567",
            "071 123 45 67",
            "+1234567890123456",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_name_the_field() {
        let e = required("name", &"x".repeat(201), MAX_NAME).expect_err("too long");
        assert!(e.text().contains("name must be at most 200"));
        assert!(required("name", "  ", MAX_NAME).is_err());
    }
}
