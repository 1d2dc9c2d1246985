//! Integration tests: every test starts a real server (in process, on a free port) and talks
//! to it over real sockets, on SQLite and on PostgreSQL. One binary, to keep link times low.

mod admin;
mod ops;
mod orgs;
mod transport;
mod users;

pub use castellan_testkit::{both, Backend, TestServer};
pub use serde_json::{json, Value};

/// Asserts a REST error: HTTP status, gRPC code and that the message mentions `needle`.
#[track_caller]
pub fn assert_err(res: &(u16, Value), status: u16, code: i64, needle: &str) {
    let (s, body) = res;
    assert_eq!(*s, status, "unexpected status, body: {body}");
    assert_eq!(
        body["code"].as_i64(),
        Some(code),
        "unexpected code, body: {body}"
    );
    let msg = body["message"].as_str().unwrap_or_default();
    assert!(
        msg.to_lowercase().contains(&needle.to_lowercase()),
        "message {msg:?} does not mention {needle:?}"
    );
    assert_eq!(
        body["details"][0]["@type"], "type.googleapis.com/zitadel.v1.ErrorDetail",
        "body: {body}"
    );
    assert!(
        body["details"][0]["id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "body: {body}"
    );
}

/// Asserts a 200 and returns the body.
#[track_caller]
pub fn ok(res: (u16, Value)) -> Value {
    assert_eq!(res.0, 200, "expected 200, got {}: {}", res.0, res.1);
    res.1
}
