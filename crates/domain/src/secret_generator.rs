//! Secret generators: how the codes an instance sends (init, verification, reset, OTP) and the
//! application secrets it issues are generated. Types, defaults and character classes follow
//! ZITADEL (`SecretGeneratorType`, the `SecretGenerators` defaults of its setup).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Generator types (numbers of `zitadel.settings.v1.SecretGeneratorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GeneratorType {
    InitCode = 1,
    VerifyEmailCode = 2,
    VerifyPhoneCode = 3,
    PasswordResetCode = 4,
    PasswordlessInitCode = 5,
    AppSecret = 6,
    OtpSms = 7,
    OtpEmail = 8,
}

impl GeneratorType {
    pub const ALL: [GeneratorType; 8] = [
        GeneratorType::InitCode,
        GeneratorType::VerifyEmailCode,
        GeneratorType::VerifyPhoneCode,
        GeneratorType::PasswordResetCode,
        GeneratorType::PasswordlessInitCode,
        GeneratorType::AppSecret,
        GeneratorType::OtpSms,
        GeneratorType::OtpEmail,
    ];

    /// The type of a proto enum number; 0 and unknown numbers are rejected.
    pub fn from_i32(n: i32) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| *t as i32 == n)
            .ok_or_else(|| {
                Error::invalid(
                    "COMMAND-33k9f",
                    "Errors.SecretGenerator.TypeMissing",
                    format!("generator_type must be a known secret generator type (got {n})"),
                )
            })
    }

    /// ZITADEL's default settings of this type.
    pub fn default_config(self) -> GeneratorConfig {
        use GeneratorType::*;
        let (length, expiry_secs, lower, upper, digits) = match self {
            InitCode => (6, 72 * 3600, false, true, true),
            VerifyEmailCode | VerifyPhoneCode | PasswordResetCode => (6, 3600, false, true, true),
            PasswordlessInitCode => (12, 3600, true, true, true),
            AppSecret => (64, 0, true, true, true),
            OtpSms | OtpEmail => (8, 300, false, false, true),
        };
        GeneratorConfig {
            length,
            expiry_secs,
            include_lower_letters: lower,
            include_upper_letters: upper,
            include_digits: digits,
            include_symbols: false,
        }
    }
}

/// The settings of one generator (payload of `instance.secret.generator.added/changed`
/// together with the type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    pub length: u32,
    /// How long a generated code is valid; 0 = does not expire.
    pub expiry_secs: i64,
    pub include_lower_letters: bool,
    pub include_upper_letters: bool,
    pub include_digits: bool,
    pub include_symbols: bool,
}

/// Longest code we generate.
pub const MAX_LENGTH: u32 = 256;
/// Longest expiry accepted (one year).
pub const MAX_EXPIRY_SECS: i64 = 366 * 24 * 3600;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b"~!@#$^&*()_+`-={}|[]:<>?,./";

fn invalid(detail: String) -> Error {
    Error::invalid("COMMAND-sgInv", "Errors.SecretGenerator.Invalid", detail)
}

impl GeneratorConfig {
    /// Checks the length, the expiry and that at least one character class is included.
    pub fn validate(&self) -> Result<()> {
        if self.length == 0 || self.length > MAX_LENGTH {
            return Err(invalid(format!(
                "length must be between 1 and {MAX_LENGTH} (got {})",
                self.length
            )));
        }
        if !(0..=MAX_EXPIRY_SECS).contains(&self.expiry_secs) {
            return Err(invalid(format!(
                "expiry must be between 0s and {MAX_EXPIRY_SECS}s"
            )));
        }
        if self.classes().is_empty() {
            return Err(invalid(
                "at least one of include_lower_letters, include_upper_letters, include_digits, include_symbols must be set".into(),
            ));
        }
        Ok(())
    }

    fn classes(&self) -> Vec<&'static [u8]> {
        [
            (self.include_lower_letters, LOWER),
            (self.include_upper_letters, UPPER),
            (self.include_digits, DIGITS),
            (self.include_symbols, SYMBOLS),
        ]
        .into_iter()
        .filter_map(|(on, set)| on.then_some(set))
        .collect()
    }

    /// A random code of `length` characters drawn uniformly from the included classes; when the
    /// code is at least as long as the number of classes, each class occurs at least once.
    pub fn generate(&self) -> Result<String> {
        self.validate()?;
        let classes = self.classes();
        let alphabet: Vec<u8> = classes.concat();
        let len = self.length as usize;
        loop {
            let code = random_string(&alphabet, len)?;
            let all_present = len < classes.len()
                || classes
                    .iter()
                    .all(|set| code.bytes().any(|b| set.contains(&b)));
            if all_present {
                return Ok(code);
            }
        }
    }
}

/// Uniform choice from `alphabet` (rejection sampling, no modulo bias).
fn random_string(alphabet: &[u8], len: usize) -> Result<String> {
    let n = alphabet.len();
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        aws_lc_rs::rand::fill(&mut buf)
            .map_err(|_| Error::internal("SECRET-rnd01", "no randomness"))?;
        for &b in buf.iter() {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % n] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_zitadels() {
        let otp = GeneratorType::OtpEmail.default_config();
        assert_eq!((otp.length, otp.expiry_secs), (8, 300));
        assert!(otp.include_digits && !otp.include_upper_letters);
        let app = GeneratorType::AppSecret.default_config();
        assert_eq!(app.length, 64);
        assert_eq!(
            GeneratorType::InitCode.default_config().expiry_secs,
            72 * 3600
        );
        for t in GeneratorType::ALL {
            t.default_config().validate().expect("defaults are valid");
            assert_eq!(GeneratorType::from_i32(t as i32).expect("type"), t);
        }
        assert!(GeneratorType::from_i32(0).is_err());
        assert!(GeneratorType::from_i32(9).is_err());
    }

    #[test]
    fn codes_have_the_length_and_classes() {
        for t in GeneratorType::ALL {
            let c = t.default_config();
            for _ in 0..50 {
                let code = c.generate().expect("code");
                assert_eq!(code.len(), c.length as usize);
                for ch in code.bytes() {
                    let ok = (c.include_lower_letters && LOWER.contains(&ch))
                        || (c.include_upper_letters && UPPER.contains(&ch))
                        || (c.include_digits && DIGITS.contains(&ch))
                        || (c.include_symbols && SYMBOLS.contains(&ch));
                    assert!(ok, "{t:?}: unexpected character {}", ch as char);
                }
                if c.include_upper_letters && c.length >= 2 {
                    assert!(code.bytes().any(|b| UPPER.contains(&b)));
                    assert!(code.bytes().any(|b| DIGITS.contains(&b)));
                }
            }
        }
        let sym = GeneratorConfig {
            length: 20,
            expiry_secs: 0,
            include_lower_letters: false,
            include_upper_letters: false,
            include_digits: false,
            include_symbols: true,
        };
        assert!(sym
            .generate()
            .expect("code")
            .bytes()
            .all(|b| SYMBOLS.contains(&b)));
        let digits = GeneratorType::OtpSms
            .default_config()
            .generate()
            .expect("code");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let mut c = GeneratorType::InitCode.default_config();
        c.length = 0;
        assert!(c.generate().is_err());
        c.length = MAX_LENGTH + 1;
        assert!(c.validate().is_err());
        c.length = 6;
        c.expiry_secs = -1;
        assert!(c.validate().is_err());
        c.expiry_secs = 10;
        c.include_upper_letters = false;
        c.include_digits = false;
        let e = c.validate().expect_err("no classes");
        assert!(e.text().contains("include_digits"));
    }
}
