//! Token exchange (RFC 8693) at the token endpoint: off unless the instance's OIDC settings
//! enable it and the app allows the grant; narrowing an access token, other token types,
//! impersonation (only when the security policy enables it) with and without the permission,
//! and bad subject tokens.

use super::oidc_introspect::introspect;
use super::oidc_token::{app, project, token, verify_with_jwks, Answer};
use super::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const IDT: &str = "urn:ietf:params:oauth:token-type:id_token";
const USER_ID: &str = "urn:zitadel:params:oauth:token-type:user_id";

static PROJECTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Rp {
    project: String,
    client: String,
    secret: String,
}

/// A web app (basic auth) allowed the exchange, or only the code flow.
async fn new_rp(s: &TestServer, exchange: bool) -> Rp {
    let n = PROJECTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let project = project(s, &format!("exchange-{n}")).await;
    let mut grants = vec!["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"];
    if exchange {
        grants.push("OIDC_GRANT_TYPE_TOKEN_EXCHANGE");
    }
    let (_, client, secret) = app(
        s,
        &project,
        "oidc",
        json!({
            "name": "exchanger",
            "redirectUris": ["https://rp.example.com/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": grants,
            "appType": "OIDC_APP_TYPE_WEB",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
            "devMode": true,
        }),
    )
    .await;
    Rp {
        project,
        client,
        secret,
    }
}

async fn enable(s: &TestServer) {
    ok(s.admin(
        "POST",
        "/admin/v1/settings/oidc",
        Some(json!({
            "accessTokenLifetime": "3600s", "idTokenLifetime": "3600s",
            "refreshTokenIdleExpiration": "86400s", "refreshTokenExpiration": "172800s",
            "tokenExchangeEnabled": true,
        })),
    )
    .await);
}

/// Sets the security policy's `enableImpersonation`.
async fn impersonation(s: &TestServer, on: bool) {
    ok(s.admin(
        "PUT",
        "/admin/v1/policies/security",
        Some(json!({ "enableImpersonation": on })),
    )
    .await);
}

async fn exchange(s: &TestServer, rp: &Rp, form: &[(&str, &str)]) -> Answer {
    let mut f = vec![("grant_type", GRANT)];
    f.extend_from_slice(form);
    token(s, Some((&rp.client, &rp.secret)), &f).await
}

/// A sealed access token of `user` for the app, with `scopes`.
async fn subject_token(s: &TestServer, rp: &Rp, user: &str, scopes: &[&str]) -> String {
    let t = s
        .access_token(user, &rp.client, &[&rp.client, &rp.project], scopes)
        .await;
    s.seal(&t)
}

async fn person(s: &TestServer, name: &str) -> String {
    super::login::human(s, name, false).await.0
}

both!(
    token_exchange_needs_setting_and_grant,
    |s: TestServer| async move {
        let allowed = new_rp(&s, true).await;
        let code_only = new_rp(&s, false).await;
        let user = person(&s, "tx-off").await;
        let st = subject_token(&s, &allowed, &user, &["openid"]).await;
        let form = [("subject_token", st.as_str()), ("subject_token_type", AT)];
        // Off by default: the grant is not available on this instance.
        let r = exchange(&s, &allowed, &form).await;
        r.err(400, "unsupported_grant_type");
        assert!(r.body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("not enabled"));
        enable(&s).await;
        exchange(&s, &code_only, &form)
            .await
            .err(400, "unauthorized_client");
        let r = exchange(&s, &allowed, &form).await;
        assert_eq!(r.ok()["issued_token_type"], AT);
        // Bad client credentials still count first.
        let mut f = vec![("grant_type", GRANT)];
        f.extend_from_slice(&form);
        token(&s, Some((&allowed.client, "wrong")), &f)
            .await
            .err(401, "invalid_client");
    }
);

both!(
    token_exchange_narrows_and_changes_type,
    |s: TestServer| async move {
        enable(&s).await;
        let rp = new_rp(&s, true).await;
        let user = person(&s, "tx-narrow").await;
        let st = subject_token(&s, &rp, &user, &["openid", "profile", "email"]).await;
        // Narrower scope and audience.
        let r = exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                ("scope", "openid email"),
                ("audience", &rp.client),
            ],
        )
        .await;
        let b = r.ok().clone();
        assert_eq!(r.header("cache-control"), "no-store");
        assert_eq!(b["issued_token_type"], AT);
        assert_eq!(b["token_type"], "Bearer");
        assert_eq!(b["scope"], "openid email");
        assert!(b["expires_in"].as_i64().is_some_and(|e| e > 0), "{b}");
        let at = b["access_token"].as_str().expect("at").to_string();
        assert!(at.starts_with("v1."), "an opaque token: {b}");
        let id = verify_with_jwks(&s, b["id_token"].as_str().expect("id_token")).await;
        assert_eq!(id["sub"], user.as_str());
        assert!(id.get("act").is_none(), "{id}");
        let i = introspect(&s, (&rp.client, &rp.secret), &at).await;
        assert_eq!(i["active"], true, "{i}");
        assert_eq!(i["sub"], user.as_str());
        assert_eq!(i["scope"], "openid email");
        assert_eq!(i["aud"], json!([rp.client]));
        assert!(i.get("act").is_none(), "{i}");
        // Widening is refused.
        exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                ("scope", "openid phone"),
            ],
        )
        .await
        .err(400, "invalid_scope");
        exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                ("audience", "someone-else"),
            ],
        )
        .await
        .err(400, "invalid_target");
        // Repeated audience parameters (RFC 8693 2.1) are read together.
        exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                ("audience", &rp.client),
                ("audience", "someone-else"),
            ],
        )
        .await
        .err(400, "invalid_target");
        // A JWT access token.
        let r = exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                ("requested_token_type", JWT),
                ("scope", "email"),
            ],
        )
        .await;
        let b = r.ok().clone();
        assert_eq!(b["issued_token_type"], JWT);
        assert!(b.get("id_token").is_none(), "no openid, no ID token: {b}");
        let jwt = b["access_token"].as_str().expect("jwt").to_string();
        let c = verify_with_jwks(&s, &jwt).await;
        assert_eq!(c["sub"], user.as_str());
        assert_eq!(c["scope"], "email");
        assert_eq!(c["iss"], s.base);
        // The JWT can itself be exchanged (as an access token or as a jwt-typed access token).
        let r = exchange(
            &s,
            &rp,
            &[("subject_token", &jwt), ("subject_token_type", AT)],
        )
        .await;
        assert_eq!(r.ok()["scope"], "email");
        // An ID token, and an ID token as the subject.
        let r = exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                ("requested_token_type", IDT),
            ],
        )
        .await;
        let b = r.ok().clone();
        assert_eq!(b["issued_token_type"], IDT);
        assert_eq!(b["token_type"], "N_A");
        let idt = b["access_token"].as_str().expect("id token").to_string();
        let c = verify_with_jwks(&s, &idt).await;
        assert_eq!(c["sub"], user.as_str());
        assert!(c["aud"]
            .as_array()
            .expect("aud")
            .contains(&json!(rp.client)));
        let r = exchange(
            &s,
            &rp,
            &[("subject_token", &idt), ("subject_token_type", IDT)],
        )
        .await;
        let b = r.ok().clone();
        assert_eq!(
            introspect(
                &s,
                (&rp.client, &rp.secret),
                b["access_token"].as_str().expect("at")
            )
            .await["sub"],
            user.as_str()
        );
        // The ID token of another client (another project's app) is not accepted.
        let rp2 = new_rp(&s, true).await;
        exchange(
            &s,
            &rp2,
            &[("subject_token", &idt), ("subject_token_type", IDT)],
        )
        .await
        .err(400, "invalid_request");
    }
);

both!(token_exchange_impersonation, |s: TestServer| async move {
    enable(&s).await;
    let rp = new_rp(&s, true).await;
    let user = person(&s, "tx-subject").await;
    let actor = person(&s, "tx-actor").await;
    let actor_at = subject_token(&s, &rp, &actor, &["openid", "profile"]).await;
    let user_at = subject_token(&s, &rp, &user, &["openid", "profile"]).await;
    // The security policy disables impersonation by default: refused (as ZITADEL: 403
    // invalid_request) even for an actor with the role, with a user id or a token as subject.
    ok(s.admin(
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": actor, "roles": ["ORG_END_USER_IMPERSONATOR"]})),
    )
    .await);
    for (subject, kind) in [(user.as_str(), USER_ID), (user_at.as_str(), AT)] {
        let r = exchange(
            &s,
            &rp,
            &[
                ("subject_token", subject),
                ("subject_token_type", kind),
                ("actor_token", &actor_at),
                ("actor_token_type", AT),
            ],
        )
        .await;
        r.err(403, "invalid_request");
        assert!(r.body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("security policy"));
    }
    // A plain exchange does not need it.
    exchange(
        &s,
        &rp,
        &[("subject_token", &user_at), ("subject_token_type", AT)],
    )
    .await
    .ok();
    impersonation(&s, true).await;
    ok(s.admin(
        "DELETE",
        &format!("/management/v1/orgs/me/members/{actor}"),
        None,
    )
    .await);
    // Impersonation without an actor token.
    let r = exchange(
        &s,
        &rp,
        &[("subject_token", &user), ("subject_token_type", USER_ID)],
    )
    .await;
    r.err(400, "invalid_request");
    assert!(r.body["error_description"]
        .as_str()
        .unwrap_or_default()
        .contains("actor_token"));
    // The actor holds no impersonation permission.
    let imp = [
        ("subject_token", user.as_str()),
        ("subject_token_type", USER_ID),
        ("actor_token", actor_at.as_str()),
        ("actor_token_type", AT),
    ];
    exchange(&s, &rp, &imp).await.err(400, "access_denied");
    // Nor when the subject is given as a token.
    exchange(
        &s,
        &rp,
        &[
            ("subject_token", &user_at),
            ("subject_token_type", AT),
            ("actor_token", &actor_at),
            ("actor_token_type", AT),
        ],
    )
    .await
    .err(400, "access_denied");
    // With ORG_END_USER_IMPERSONATOR in the subject's organisation it works.
    ok(s.admin(
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": actor, "roles": ["ORG_END_USER_IMPERSONATOR"]})),
    )
    .await);
    let r = exchange(&s, &rp, &imp).await;
    let b = r.ok().clone();
    assert_eq!(b["issued_token_type"], AT);
    assert_eq!(b["scope"], "openid profile", "the actor's scopes: {b}");
    let at = b["access_token"].as_str().expect("at").to_string();
    let i = introspect(&s, (&rp.client, &rp.secret), &at).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["sub"], user.as_str());
    assert_eq!(i["act"]["sub"], actor.as_str(), "{i}");
    assert_eq!(i["act"]["iss"], s.base);
    let id = verify_with_jwks(&s, b["id_token"].as_str().expect("id_token")).await;
    assert_eq!(id["sub"], user.as_str());
    assert_eq!(id["act"]["sub"], actor.as_str(), "{id}");
    // As a JWT: act in the token itself.
    let mut f = imp.to_vec();
    f.push(("requested_token_type", JWT));
    let b = exchange(&s, &rp, &f).await.ok().clone();
    let c = verify_with_jwks(&s, b["access_token"].as_str().expect("jwt")).await;
    assert_eq!(c["sub"], user.as_str());
    assert_eq!(c["act"]["sub"], actor.as_str(), "{c}");
    // Exchanging the impersonated token keeps its actor.
    let b = exchange(
        &s,
        &rp,
        &[("subject_token", &at), ("subject_token_type", AT)],
    )
    .await
    .ok()
    .clone();
    let i = introspect(
        &s,
        (&rp.client, &rp.secret),
        b["access_token"].as_str().expect("at"),
    )
    .await;
    assert_eq!(i["act"]["sub"], actor.as_str(), "{i}");
    // A manager (the instance admin) needs the admin impersonation role: not given here.
    let admin = super::oidc_token::human(&s).await;
    exchange(
        &s,
        &rp,
        &[
            ("subject_token", &admin),
            ("subject_token_type", USER_ID),
            ("actor_token", &actor_at),
            ("actor_token_type", AT),
        ],
    )
    .await
    .err(400, "access_denied");
});

both!(
    token_exchange_bad_subject_tokens,
    |s: TestServer| async move {
        enable(&s).await;
        let rp = new_rp(&s, true).await;
        let user = person(&s, "tx-bad").await;
        let r = exchange(&s, &rp, &[("subject_token_type", AT)]).await;
        r.err(400, "invalid_request");
        assert!(r.body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("subject_token"));
        let st = subject_token(&s, &rp, &user, &["openid"]).await;
        let r = exchange(&s, &rp, &[("subject_token", &st)]).await;
        r.err(400, "invalid_request");
        assert!(r.body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("subject_token_type"));
        for (token, kind) in [
            ("garbage", AT),
            ("v1.AAAA", AT),
            ("a.b.c", IDT),
            (
                st.as_str(),
                "urn:ietf:params:oauth:token-type:refresh_token",
            ),
            (st.as_str(), "urn:example:unknown"),
            ("no-such-user", USER_ID),
        ] {
            let r = exchange(
                &s,
                &rp,
                &[("subject_token", token), ("subject_token_type", kind)],
            )
            .await;
            r.err(400, "invalid_request");
        }
        // Expired.
        let mut t = s
            .access_token(&user, &rp.client, &[&rp.client], &["openid"])
            .await;
        t.exp = t.iat - 10;
        let expired = s.seal(&t);
        exchange(
            &s,
            &rp,
            &[("subject_token", &expired), ("subject_token_type", AT)],
        )
        .await
        .err(400, "invalid_request");
        // A deactivated user's token.
        ok(s.admin(
            "POST",
            &format!("/management/v1/users/{user}/_deactivate"),
            Some(json!({})),
        )
        .await);
        exchange(
            &s,
            &rp,
            &[("subject_token", &st), ("subject_token_type", AT)],
        )
        .await
        .err(400, "invalid_request");
        // Unsupported requested type.
        exchange(
            &s,
            &rp,
            &[
                ("subject_token", &st),
                ("subject_token_type", AT),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                ),
            ],
        )
        .await
        .err(400, "invalid_request");
    }
);

both!(
    token_exchange_jwt_subject_signed_with_the_app_key,
    |s: TestServer| async move {
        use super::oidc_token::{key, now, sign};
        enable(&s).await;
        let project = project(&s, "exchange-pkj").await;
        let (app_id, client, _) = app(
        &s,
        &project,
        "oidc",
        json!({
            "name": "pkj",
            "redirectUris": ["https://rp.example.com/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_TOKEN_EXCHANGE"],
            "appType": "OIDC_APP_TYPE_WEB",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
            "devMode": true,
        }),
    )
    .await;
        let (kid, pem) = key(
            &s,
            &format!("/management/v1/projects/{project}/apps/{app_id}/keys"),
        )
        .await;
        let user = person(&s, "tx-jwt-subject").await;
        let actor = person(&s, "tx-jwt-actor").await;
        impersonation(&s, true).await;
        ok(s.admin(
            "POST",
            "/management/v1/orgs/me/members",
            Some(json!({"userId": actor, "roles": ["ORG_END_USER_IMPERSONATOR"]})),
        )
        .await);
        let actor_at = s.seal(
            &s.access_token(&actor, &client, &[&client, &project], &["openid"])
                .await,
        );
        let jti = std::sync::atomic::AtomicUsize::new(0);
        let call = |form: Vec<(&'static str, String)>| {
            let n = jti.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let assertion = sign(
                &pem,
                &kid,
                &json!({"iss": client, "sub": client, "aud": s.origin(), "iat": now(),
                    "exp": now() + 120, "jti": format!("tx{n}")}),
            );
            let s = &s;
            async move {
                let mut f: Vec<(&str, String)> = vec![
                    ("grant_type", GRANT.to_string()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                    ),
                    ("client_assertion", assertion),
                ];
                f.extend(form);
                let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
                token(s, None, &pairs).await
            }
        };
        let subject = |sub: &str, aud: String| {
            sign(
                &pem,
                &kid,
                &json!({"iss": sub, "sub": sub, "aud": aud, "iat": now(), "exp": now() + 120}),
            )
        };
        let good = subject(&user, s.origin());
        // A JWT subject is impersonation: an actor is needed.
        call(vec![
            ("subject_token", good.clone()),
            ("subject_token_type", JWT.into()),
        ])
        .await
        .err(400, "invalid_request");
        let r = call(vec![
            ("subject_token", good.clone()),
            ("subject_token_type", JWT.into()),
            ("actor_token", actor_at.clone()),
            ("actor_token_type", AT.into()),
        ])
        .await;
        let b = r.ok().clone();
        let c = verify_with_jwks(&s, b["id_token"].as_str().expect("id_token")).await;
        assert_eq!(c["sub"], user.as_str());
        assert_eq!(c["act"]["sub"], actor.as_str(), "{c}");
        // Another audience, or a JWT signed by another key, is no subject.
        call(vec![
            (
                "subject_token",
                subject(&user, "https://elsewhere.example".into()),
            ),
            ("subject_token_type", JWT.into()),
            ("actor_token", actor_at.clone()),
            ("actor_token_type", AT.into()),
        ])
        .await
        .err(400, "invalid_request");
        let mut forged: Vec<&str> = good.split('.').collect();
        forged[2] = "AAAA";
        call(vec![
            ("subject_token", forged.join(".")),
            ("subject_token_type", JWT.into()),
            ("actor_token", actor_at.clone()),
            ("actor_token_type", AT.into()),
        ])
        .await
        .err(400, "invalid_request");
    }
);
