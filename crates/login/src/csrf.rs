//! CSRF protection: every form carries a token derived from the browser's secret user-agent id
//! (HttpOnly cookie), so only a page served to that browser can submit it.

use castellan_api::authn::hash_secret;

/// The form field holding the token (ZITADEL's name).
pub const FIELD: &str = "gorilla.csrf.Token";

/// The token of the browser `agent`.
pub fn token(agent: &str) -> String {
    hash_secret(&format!("csrf.{agent}"))
}

/// Whether `sent` is the token of `agent` (constant time).
pub fn valid(agent: &str, sent: &str) -> bool {
    let want = token(agent);
    aws_lc_rs::constant_time::verify_slices_are_equal(want.as_bytes(), sent.as_bytes()).is_ok()
}
