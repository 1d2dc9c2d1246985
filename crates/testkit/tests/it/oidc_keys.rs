//! Token signing keys: the JWK set at `/oauth/v2/keys`, keys sealed at rest, rotation with
//! overlap, per instance.

use super::*;

async fn jwks(s: &TestServer) -> (Value, String) {
    let r = s
        .http
        .get(s.url("/oauth/v2/keys"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let cache = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (r.json().await.expect("json"), cache)
}

fn kids(v: &Value) -> Vec<String> {
    v["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect()
}

both!(
    jwks_publishes_a_sealed_rs256_key,
    |s: TestServer| async move {
        let (set, cache) = jwks(&s).await;
        assert!(cache.contains("max-age=300"), "{cache}");
        let keys = set["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 1, "{set}");
        let k = &keys[0];
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["e"], "AQAB");
        assert!(
            k.get("d").is_none() && k.get("p").is_none(),
            "no private parts: {k}"
        );
        // The same key is served again.
        let (again, _) = jwks(&s).await;
        assert_eq!(kids(&again), kids(&set));
        // The private half is stored sealed.
        let rows = super::smtp::raw(&s.db_url, "SELECT private_key FROM signing_keys").await;
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains("v1."), "{rows:?}");
        let events = super::smtp::raw(
            &s.db_url,
            "SELECT payload FROM events WHERE event_type = 'key_pair.added'",
        )
        .await;
        assert_eq!(events.len(), 1);
        assert!(
            !events[0].contains("PRIVATE KEY") && events[0].contains("v1."),
            "{events:?}"
        );
        // An unknown host has no keys.
        let r = s
            .call_host("nobody.example", "GET", "/oauth/v2/keys", None, None, None)
            .await;
        assert_err(&r, 404, 5, "nobody.example");
    }
);

/// Keys sign for a second and are published for three: a new key appears when the first can no
/// longer sign, both are published while the first may still verify, then the first goes.
async fn keys_rotate_with_overlap(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.system_defaults.key_config.private_key_lifetime = "1s".into();
        c.system_defaults.key_config.public_key_lifetime = "3s".into();
        c.system_defaults.key_config.algorithm = "EdDSA".into();
    })
    .await
    else {
        return;
    };
    let (first, _) = jwks(&s).await;
    assert_eq!(first["keys"][0]["kty"], "OKP");
    assert_eq!(first["keys"][0]["crv"], "Ed25519");
    let k1 = kids(&first);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let (second, _) = jwks(&s).await;
    let k2 = kids(&second);
    assert_eq!(k2.len(), 2, "old and new key: {second}");
    assert!(k2.contains(&k1[0]));
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let (third, _) = jwks(&s).await;
    let k3 = kids(&third);
    assert!(
        !k3.contains(&k1[0]),
        "the first key is no longer published: {third}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_with_overlap_sqlite() {
    keys_rotate_with_overlap(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_with_overlap_postgres() {
    keys_rotate_with_overlap(Backend::Postgres).await;
}
