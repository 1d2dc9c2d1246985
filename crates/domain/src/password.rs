//! Password complexity rules and password hashing (argon2id for new hashes; argon2 and bcrypt
//! PHC/modular-crypt hashes verify so that imported users can log in).

use crate::error::{Error, Kind, Result};
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// A password complexity policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Complexity {
    pub min_length: u32,
    pub has_uppercase: bool,
    pub has_lowercase: bool,
    pub has_number: bool,
    pub has_symbol: bool,
}

impl Default for Complexity {
    /// ZITADEL's default: at least 8 characters with upper, lower, number and symbol.
    fn default() -> Self {
        Complexity {
            min_length: 8,
            has_uppercase: true,
            has_lowercase: true,
            has_number: true,
            has_symbol: true,
        }
    }
}

impl Complexity {
    /// Checks `pw`; the error names the first failed rule.
    pub fn check(&self, pw: &str) -> Result<()> {
        let fail =
            |id, key, rule: String| Err(Error::new(Kind::InvalidArgument, id, key).with(rule));
        if (pw.chars().count() as u32) < self.min_length {
            return fail(
                "COMP-HuJf6",
                "Errors.PasswordComplexityPolicy.MinLength",
                format!("password must be at least {} characters", self.min_length),
            );
        }
        if self.has_lowercase && !pw.chars().any(char::is_lowercase) {
            return fail(
                "COMP-co3Xw",
                "Errors.PasswordComplexityPolicy.HasLower",
                "password must contain a lower case letter".into(),
            );
        }
        if self.has_uppercase && !pw.chars().any(char::is_uppercase) {
            return fail(
                "COMP-VoaRj",
                "Errors.PasswordComplexityPolicy.HasUpper",
                "password must contain an upper case letter".into(),
            );
        }
        if self.has_number && !pw.chars().any(|c| c.is_ascii_digit()) {
            return fail(
                "COMP-ZBv4H",
                "Errors.PasswordComplexityPolicy.HasNumber",
                "password must contain a number".into(),
            );
        }
        if self.has_symbol
            && !pw
                .chars()
                .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
        {
            return fail(
                "COMP-ZDLwA",
                "Errors.PasswordComplexityPolicy.HasSymbol",
                "password must contain a symbol".into(),
            );
        }
        Ok(())
    }
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's recommended argon2id setting (19 MiB, 2 iterations, 1 lane).
    fn default() -> Self {
        HashParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes `pw` with argon2id into PHC form.
pub fn hash(pw: &str, p: HashParams) -> Result<String> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(|e| Error::internal("PASS-pr4m5", e.to_string()))?;
    let salt_bytes: [u8; 16] = crate::id::random_bytes();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| Error::internal("PASS-s4lt0", e.to_string()))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let (alg, version) = (Algorithm::Argon2id, Version::V0x13);
    compute(
        alg,
        version,
        params.clone(),
        pw.as_bytes(),
        &salt_bytes,
        &mut out,
    )
    .map_err(|e| Error::internal("PASS-h4sh0", e.to_string()))?;
    let phc = PasswordHash {
        algorithm: alg.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| Error::internal("PASS-h4sh1", e.to_string()))?,
        salt: Some(Salt::from(&salt)),
        hash: Some(Output::new(&out).map_err(|e| Error::internal("PASS-h4sh2", e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Working memory of finished hashes, kept for the next one: a hash needs `memory_kib` of it
/// (19 MiB by default), and allocating it afresh costs a page fault per 4 KiB and its
/// zeroing, a fifth of the hash's own time. At most one buffer per core is kept (the
/// server's hasher pool runs that many hashes at once) while hashes keep coming
/// ([`release_memory`]).
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Gives the kept working memory back to the system (when no hash is waiting: an idle server
/// holds none).
pub fn release_memory() {
    MEMORY.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// The machine's cores, read once: `available_parallelism` reads cgroup files on every call
/// (a dozen system calls).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs argon2 over `pw` and the raw `salt` into `out` with pooled working memory.
fn compute(
    alg: Algorithm,
    version: Version,
    params: Params,
    pw: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks = params.block_count();
    let kept = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut memory = kept.unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let res = Argon2::new(alg, version, params).hash_password_into_with_memory(
        pw,
        salt,
        out,
        &mut memory[..],
    );
    let mut pool = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    if pool.len() < cores() {
        pool.push(memory);
    }
    res
}

/// Verifies `pw` against an argon2 PHC hash (any variant and version, its own parameters).
fn verify_argon2(pw: &[u8], h: &PasswordHash) -> bool {
    let (Ok(alg), Some(salt), Some(expected)) = (Algorithm::try_from(h.algorithm), h.salt, h.hash)
    else {
        return false;
    };
    let version = match h.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(h) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(alg, version, params, pw, salt, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

/// Checks that an imported hash is in a supported format (argon2 PHC or bcrypt).
pub fn check_importable(hash: &str) -> Result<()> {
    if is_bcrypt(hash) && hash.parse::<bcrypt::HashParts>().is_ok() {
        return Ok(());
    }
    if let Ok(h) = PasswordHash::new(hash) {
        let variant_ok = matches!(h.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d");
        if variant_ok && h.salt.is_some() && h.hash.is_some() && Params::try_from(&h).is_ok() {
            return Ok(());
        }
    }
    Err(Error::new(
        Kind::InvalidArgument,
        "PASS-imP0r",
        "Errors.User.Password.Hash.Unsupported",
    )
    .with("hashed_password must be a bcrypt ($2a$, $2b$, $2y$) or argon2 PHC ($argon2id$...) hash"))
}

fn is_bcrypt(h: &str) -> bool {
    h.starts_with("$2a$") || h.starts_with("$2b$") || h.starts_with("$2y$") || h.starts_with("$2x$")
}

/// Verifies `pw` against a stored hash of any supported format.
pub fn verify(pw: &str, hash: &str) -> bool {
    if is_bcrypt(hash) {
        return bcrypt::verify(pw, hash).unwrap_or(false);
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => verify_argon2(pw.as_bytes(), &parsed),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complexity_names_rule() {
        let c = Complexity::default();
        assert!(c.check("Password1!").is_ok());
        assert_eq!(
            c.check("Pa1!").expect_err("short").key,
            "Errors.PasswordComplexityPolicy.MinLength"
        );
        assert_eq!(
            c.check("password1!").expect_err("upper").key,
            "Errors.PasswordComplexityPolicy.HasUpper"
        );
        assert_eq!(
            c.check("Password!!").expect_err("number").key,
            "Errors.PasswordComplexityPolicy.HasNumber"
        );
        assert_eq!(
            c.check("Password11").expect_err("symbol").key,
            "Errors.PasswordComplexityPolicy.HasSymbol"
        );
    }

    #[test]
    fn hash_and_verify() {
        let p = HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let h = hash("Secret1!", p).expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Secret1!", &h));
        assert!(!verify("Secret2!", &h));
        let b = bcrypt::hash("Secret1!", 4).expect("bcrypt");
        assert!(check_importable(&b).is_ok());
        assert!(verify("Secret1!", &b));
        assert!(check_importable("md5:abc").is_err());
        assert!(check_importable(&h).is_ok());
        assert!(check_importable("$argon2id$garbage").is_err());
        assert!(check_importable("$argon2id$v=19$m=64,t=1,p=1").is_err());
    }

    /// Hashes of the argon2 crate's own PHC hasher (every variant, other parameters, an older
    /// version) verify with the pooled memory, in any order of sizes, and ours verify there.
    #[test]
    fn pooled_memory_matches_the_reference_hasher() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        for (alg, version, m, t, p) in [
            (Algorithm::Argon2id, Version::V0x13, 256, 2, 1),
            (Algorithm::Argon2i, Version::V0x13, 64, 3, 2),
            (Algorithm::Argon2d, Version::V0x10, 128, 1, 1),
            (Algorithm::Argon2id, Version::V0x13, 32, 1, 4),
        ] {
            let params = Params::new(m, t, p, None).expect("params");
            let phc = Argon2::new(alg, version, params)
                .hash_password(b"Secret1!", &salt)
                .expect("reference hash")
                .to_string();
            assert!(verify("Secret1!", &phc), "{phc}");
            assert!(!verify("Secret1?", &phc), "{phc}");
        }
        let ours = hash(
            "Secret1!",
            HashParams {
                memory_kib: 96,
                iterations: 2,
                parallelism: 1,
            },
        )
        .expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"Secret1!", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"Secret1?", &parsed)
            .is_err());
    }
}
