//! The token endpoint over real sockets: client_credentials, the JWT profile, authorization
//! codes (inserted as the login would leave them) and refresh-token rotation; every client
//! authentication method, good and bad.

use super::*;
use aws_lc_rs::signature as sig;
use base64::Engine;
use castellan_store::{params, Db, Target};

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An OAuth answer: status, JSON body, headers.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        &self.body
    }
    #[track_caller]
    pub fn err(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], error, "{}", self.body);
        assert!(self.body["error_description"].is_string(), "{}", self.body);
    }
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

/// POSTs a form to `path`, optionally with basic credentials and another host.
pub(crate) async fn post_form(
    s: &TestServer,
    host: Option<&str>,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Answer {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = s
        .http
        .post(s.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(h) = host {
        req = req.header("host", h);
    }
    if let Some((id, secret)) = basic {
        let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let cred = B64.encode(format!("{}:{}", enc(id), enc(secret)));
        req = req.header("authorization", format!("Basic {cred}"));
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    }
}

pub(crate) async fn token(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Answer {
    post_form(s, None, "/oauth/v2/token", basic, form).await
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A project in the default org.
pub(crate) async fn project(s: &TestServer, name: &str) -> String {
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/projects",
            Some(json!({ "name": name })),
        )
        .await);
    r["id"].as_str().expect("project id").to_string()
}

/// An app: (app id, client id, client secret or "").
pub(crate) async fn app(
    s: &TestServer,
    project: &str,
    kind: &str,
    body: Value,
) -> (String, String, String) {
    let r = ok(s
        .admin(
            "POST",
            &format!("/management/v1/projects/{project}/apps/{kind}"),
            Some(body),
        )
        .await);
    (
        r["appId"].as_str().expect("appId").to_string(),
        r["clientId"].as_str().expect("clientId").to_string(),
        r["clientSecret"].as_str().unwrap_or_default().to_string(),
    )
}

/// A web app with the given auth method, code + refresh grants and token type.
pub(crate) async fn web_app(
    s: &TestServer,
    project: &str,
    name: &str,
    method: &str,
    token_type: &str,
) -> (String, String, String) {
    app(
        s,
        project,
        "oidc",
        json!({
            "name": name,
            "redirectUris": ["https://rp.example.com/cb"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
            "appType": if method == "OIDC_AUTH_METHOD_TYPE_NONE" { "OIDC_APP_TYPE_USER_AGENT" } else { "OIDC_APP_TYPE_WEB" },
            "authMethodType": method,
            "accessTokenType": token_type,
            "devMode": true,
        }),
    )
    .await
}

/// A key for an app (`apps/{app}/keys`) or a machine user (`users/{id}/keys`): (key id, PEM).
pub(crate) async fn key(s: &TestServer, path: &str) -> (String, String) {
    let r = ok(s
        .admin(
            "POST",
            path,
            Some(json!({"type": "KEY_TYPE_JSON", "expirationDate": "2099-01-01T00:00:00Z"})),
        )
        .await);
    let file: Value = serde_json::from_slice(
        &B64.decode(r["keyDetails"].as_str().expect("keyDetails"))
            .expect("b64"),
    )
    .expect("key file");
    (
        file["keyId"].as_str().expect("keyId").to_string(),
        file["key"].as_str().expect("key").to_string(),
    )
}

/// A machine user with a secret: (user id, secret).
pub(crate) async fn machine_with_secret(
    s: &TestServer,
    name: &str,
    token_type: &str,
) -> (String, String) {
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": name, "name": name, "accessTokenType": token_type})),
        )
        .await);
    let id = r["userId"].as_str().expect("userId").to_string();
    let r = ok(s
        .admin(
            "PUT",
            &format!("/management/v1/users/{id}/secret"),
            Some(json!({})),
        )
        .await);
    (
        id,
        r["clientSecret"]
            .as_str()
            .expect("clientSecret")
            .to_string(),
    )
}

/// An RS256 JWT signed with a PKCS#1 PEM private key.
pub(crate) fn sign(pem: &str, kid: &str, claims: &Value) -> String {
    let (_, der) = castellan_domain::jwt::pem_blocks(pem)
        .into_iter()
        .next()
        .expect("PEM block");
    let k = sig::RsaKeyPair::from_der(&der).expect("RSA key");
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let mut out = vec![0; k.public_modulus_len()];
    k.sign(
        &sig::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut out,
    )
    .expect("sign");
    format!("{input}.{}", B64URL.encode(out))
}

/// Verifies a JWT with the published JWK set (RSA keys) and returns its claims.
pub(crate) async fn verify_with_jwks(s: &TestServer, jwt: &str) -> Value {
    let set: Value = s
        .http
        .get(s.url("/oauth/v2/keys"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let header: Value =
        serde_json::from_slice(&B64URL.decode(parts[0]).expect("b64")).expect("header");
    let jwk = set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("kid {} not in {set}", header["kid"]));
    assert_eq!(header["alg"], "RS256");
    let n = B64URL.decode(jwk["n"].as_str().expect("n")).expect("n");
    let e = B64URL.decode(jwk["e"].as_str().expect("e")).expect("e");
    sig::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &sig::RSA_PKCS1_2048_8192_SHA256,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &B64URL.decode(parts[2]).expect("sig"),
        )
        .expect("the JWKS verifies the token");
    serde_json::from_slice(&B64URL.decode(parts[1]).expect("b64")).expect("claims")
}

/// The server's database, opened a second time for what the login would write.
pub(crate) async fn db(s: &TestServer) -> Db {
    let target = Target::parse(&s.db_url).expect("url");
    tokio::task::spawn_blocking(move || Db::open(target, 1))
        .await
        .expect("join")
        .expect("open db")
}

/// The id of the first instance.
pub(crate) async fn instance_id(s: &TestServer) -> String {
    db(s)
        .await
        .read(|c| {
            c.one("SELECT id FROM instances ORDER BY created_at", &[])?
                .map(|r| r.text(0))
                .transpose()
        })
        .await
        .expect("query")
        .expect("an instance")
}

/// What an authorization request row holds once the login finished.
#[derive(Clone)]
pub(crate) struct CodeRequest {
    pub client_id: String,
    pub scope: String,
    pub challenge: String,
    pub challenge_method: String,
    pub expires_in: i64,
    pub user_id: String,
}

impl CodeRequest {
    pub fn new(client_id: &str, user_id: &str, scope: &str) -> Self {
        CodeRequest {
            client_id: client_id.into(),
            scope: scope.into(),
            challenge: String::new(),
            challenge_method: String::new(),
            expires_in: 60,
            user_id: user_id.into(),
        }
    }
}

pub(crate) const REDIRECT: &str = "https://rp.example.com/cb";

/// Inserts a completed authorization request with a fresh code, as the login leaves it;
/// returns (request id, code).
pub(crate) async fn insert_code(s: &TestServer, r: CodeRequest) -> (String, String) {
    let inst = instance_id(s).await;
    let code = B64URL.encode(castellan_domain::id::random_bytes::<32>());
    let id = format!(
        "ar{}",
        B64URL.encode(castellan_domain::id::random_bytes::<6>())
    );
    let hash = castellan_api::authn::hash_secret(&code);
    let micros = now() * 1_000_000;
    let id2 = id.clone();
    db(s)
        .await
        .write("test", move |c| {
            c.exec(
                "INSERT INTO oidc_auth_requests (instance_id, id, client_id, redirect_uri, \
                 response_type, scope, nonce, code_challenge, code_challenge_method, created_at, \
                 expires_at, user_id, session_id, auth_time, amr, code_hash, code_expires_at) \
                 VALUES (?, ?, ?, ?, 'code', ?, 'n-0S6_WzA2Mj', ?, ?, ?, ?, ?, 'sess1', ?, 'pwd', ?, ?)",
                &params![
                    &inst,
                    &id2,
                    &r.client_id,
                    REDIRECT,
                    &r.scope,
                    &r.challenge,
                    &r.challenge_method,
                    micros,
                    micros + 600_000_000,
                    &r.user_id,
                    micros - 5_000_000,
                    &hash,
                    micros + r.expires_in * 1_000_000
                ],
            )?;
            Ok(())
        })
        .await
        .expect("insert");
    (id, code)
}

/// The human admin's user id.
pub(crate) async fn human(s: &TestServer) -> String {
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/_search",
            Some(json!({"queries": [{"typeQuery": {"type": "TYPE_HUMAN"}}]})),
        )
        .await);
    r["result"][0]["id"].as_str().expect("a human").to_string()
}

both!(
    client_credentials_for_machine_users,
    |s: TestServer| async move {
        let (uid, secret) = machine_with_secret(&s, "cc-bot", "ACCESS_TOKEN_TYPE_BEARER").await;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "openid profile bogus offline_access"),
        ];
        // Basic.
        let r = token(&s, Some(("cc-bot", &secret)), &form).await;
        let b = r.ok().clone();
        assert_eq!(r.header("cache-control"), "no-store");
        assert_eq!(r.header("pragma"), "no-cache");
        assert_eq!(b["token_type"], "Bearer");
        assert!(
            b["access_token"].as_str().expect("at").starts_with("v1."),
            "{b}"
        );
        assert_eq!(
            b["scope"], "openid profile",
            "unknown scopes and offline_access dropped"
        );
        assert!(b["expires_in"].as_i64().expect("expires_in") > 3600);
        assert!(
            b.get("refresh_token").is_none() && b.get("id_token").is_none(),
            "{b}"
        );
        // Post.
        let post = [
            ("grant_type", "client_credentials"),
            ("client_id", "cc-bot"),
            ("client_secret", secret.as_str()),
        ];
        let r = token(&s, None, &post).await;
        r.ok();
        // Two tokens differ.
        assert_ne!(r.body["access_token"], b["access_token"]);
        // Wrong secret, unknown client: 401 invalid_client; with basic a challenge.
        let r = token(&s, Some(("cc-bot", "wrong")), &form).await;
        r.err(401, "invalid_client");
        assert!(
            r.header("www-authenticate").starts_with("Basic"),
            "{:?}",
            r.headers
        );
        token(
            &s,
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
                ("client_secret", "x"),
            ],
        )
        .await
        .err(401, "invalid_client");
        // No secret at all.
        token(
            &s,
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "cc-bot"),
            ],
        )
        .await
        .err(401, "invalid_client");
        // Protocol errors.
        token(&s, None, &[("client_id", "cc-bot")])
            .await
            .err(400, "invalid_request");
        let twice = [
            ("grant_type", "client_credentials"),
            ("client_id", "cc-bot"),
            ("client_secret", secret.as_str()),
            ("client_id", "other"),
        ];
        token(&s, None, &twice).await.err(400, "invalid_request");
        token(
            &s,
            None,
            &[
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ],
        )
        .await
        .err(400, "unsupported_grant_type");
        let r = s
            .http
            .post(s.url("/oauth/v2/token"))
            .header("content-type", "application/json")
            .body(r#"{"grant_type":"client_credentials"}"#)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 400);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"], "invalid_request");

        // A JWT machine: the token verifies with the JWK set and names the user.
        let (jid, jsecret) = machine_with_secret(&s, "cc-jwt", "ACCESS_TOKEN_TYPE_JWT").await;
        let r = token(
            &s,
            Some(("cc-jwt", &jsecret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openid urn:zitadel:iam:org:project:id:zitadel:aud"),
            ],
        )
        .await;
        let at = r.ok()["access_token"].as_str().expect("at").to_string();
        let claims = verify_with_jwks(&s, &at).await;
        assert_eq!(claims["iss"], s.origin());
        assert_eq!(claims["sub"], jid.as_str());
        assert_eq!(claims["client_id"], "cc-jwt");
        assert_eq!(
            claims["scope"],
            "openid urn:zitadel:iam:org:project:id:zitadel:aud"
        );
        let inst = instance_id(&s).await;
        assert!(
            claims["aud"]
                .as_array()
                .expect("aud")
                .contains(&json!(inst)),
            "{claims}"
        );
        assert!(claims["exp"].as_i64().expect("exp") > now());

        // A deactivated machine is refused.
        ok(s.admin(
            "POST",
            &format!("/management/v1/users/{uid}/_deactivate"),
            Some(json!({})),
        )
        .await);
        token(&s, Some(("cc-bot", &secret)), &form)
            .await
            .err(401, "invalid_client");
    }
);

both!(jwt_profile_grant, |s: TestServer| async move {
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "jp-bot", "name": "jp"})),
        )
        .await);
    let uid = r["userId"].as_str().expect("userId").to_string();
    let (kid, pem) = key(&s, &format!("/management/v1/users/{uid}/keys")).await;
    let claims =
        |aud: &str, exp: i64| json!({"iss": uid, "sub": uid, "aud": aud, "iat": now(), "exp": exp});
    let grant = |assertion: String, scope: &'static str| {
        let s = &s;
        async move {
            token(
                s,
                None,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                    ("scope", scope),
                ],
            )
            .await
        }
    };
    let a = sign(&pem, &kid, &claims(&s.origin(), now() + 300));
    let r = grant(a.clone(), "openid profile").await;
    let b = r.ok().clone();
    assert_eq!(r.header("cache-control"), "no-store");
    assert!(b["access_token"].as_str().expect("at").starts_with("v1."));
    let id = verify_with_jwks(&s, b["id_token"].as_str().expect("id_token")).await;
    assert_eq!(id["iss"], s.origin());
    assert_eq!(id["sub"], uid.as_str());
    assert_eq!(id["azp"], "jp-bot");
    assert_eq!(id["at_hash"].as_str().expect("at_hash").len(), 22);
    // Without openid: no ID token. The same assertion may be used again (RFC 7523 does not forbid it).
    let r = grant(a, "profile").await;
    assert!(r.ok().get("id_token").is_none());
    // The token endpoint URL is an accepted audience too.
    grant(
        sign(&pem, &kid, &claims(&s.url("/oauth/v2/token"), now() + 300)),
        "",
    )
    .await
    .ok();
    // Wrong audience, expired, unknown key, tampered, foreign subject, garbage.
    grant(
        sign(
            &pem,
            &kid,
            &claims("https://elsewhere.example", now() + 300),
        ),
        "",
    )
    .await
    .err(400, "invalid_grant");
    grant(sign(&pem, &kid, &claims(&s.origin(), now() - 600)), "")
        .await
        .err(400, "invalid_grant");
    grant(sign(&pem, "nokey", &claims(&s.origin(), now() + 300)), "")
        .await
        .err(400, "invalid_grant");
    let good = sign(&pem, &kid, &claims(&s.origin(), now() + 300));
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = B64URL.encode(
        json!({"iss": uid, "sub": uid, "aud": s.origin(), "iat": now(), "exp": now() + 9999})
            .to_string(),
    );
    grant(parts.join("."), "").await.err(400, "invalid_grant");
    let other =
        json!({"iss": "123", "sub": "123", "aud": s.origin(), "iat": now(), "exp": now() + 300});
    grant(sign(&pem, &kid, &other), "")
        .await
        .err(400, "invalid_grant");
    grant("not-a-jwt".into(), "")
        .await
        .err(400, "invalid_grant");
    token(
        &s,
        None,
        &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")],
    )
    .await
    .err(400, "invalid_request");
});

both!(authorization_code_grant, |s: TestServer| async move {
    let user = human(&s).await;
    let p = project(&s, "code-project").await;
    let (_, client, secret) = web_app(
        &s,
        &p,
        "web",
        "OIDC_AUTH_METHOD_TYPE_BASIC",
        "OIDC_TOKEN_TYPE_BEARER",
    )
    .await;
    let (_, other, other_secret) = web_app(
        &s,
        &p,
        "other",
        "OIDC_AUTH_METHOD_TYPE_BASIC",
        "OIDC_TOKEN_TYPE_JWT",
    )
    .await;
    let scope = "openid profile offline_access urn:zitadel:iam:org:project:id:zitadel:aud";
    let redeem = |code: String, basic: (String, String), redirect: &'static str| {
        let s = &s;
        async move {
            token(
                s,
                Some((&basic.0, &basic.1)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect),
                ],
            )
            .await
        }
    };
    let me = (client.clone(), secret.clone());
    let (req_id, code) = insert_code(&s, CodeRequest::new(&client, &user, scope)).await;
    let r = redeem(code.clone(), me.clone(), REDIRECT).await;
    let b = r.ok().clone();
    assert_eq!(r.header("cache-control"), "no-store");
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["scope"], scope);
    let at = b["access_token"].as_str().expect("at").to_string();
    let rt = b["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();
    assert!(rt.len() >= 43);
    let id = verify_with_jwks(&s, b["id_token"].as_str().expect("id_token")).await;
    assert_eq!(id["iss"], s.origin());
    assert_eq!(id["sub"], user.as_str());
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["sid"], "sess1");
    assert_eq!(id["amr"], json!(["pwd"]));
    assert_eq!(id["azp"], client.as_str());
    assert!(id["auth_time"].as_i64().expect("auth_time") <= now());
    let aud = id["aud"].as_array().expect("aud");
    assert_eq!(aud[0], client.as_str());
    for a in [&other, &p, &instance_id(&s).await] {
        assert!(aud.contains(&json!(a)), "{a} not in {aud:?}");
    }
    assert_eq!(id["at_hash"], castellan_oidc_at_hash(&at));
    // The refresh token is stored hashed.
    let rows = super::smtp::raw(
        &s.db_url,
        "SELECT token_hash, family_id FROM oidc_refresh_tokens",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert!(
        !rows[0].contains(&rt) && rows[0].contains(&req_id),
        "{rows:?}"
    );

    // The token is active at the app's introspection, until the code is presented again:
    // the second redemption fails and revokes everything the code produced.
    let intro = |t: String| {
        let (s, c, sec) = (&s, client.clone(), secret.clone());
        async move { super::oidc_introspect::introspect(s, (&c, &sec), &t).await }
    };
    assert_eq!(intro(at.clone()).await["active"], true);
    redeem(code.clone(), me.clone(), REDIRECT)
        .await
        .err(400, "invalid_grant");
    assert_eq!(intro(at.clone()).await, json!({"active": false}));
    token(
        &s,
        Some((&client, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await
    .err(400, "invalid_grant");

    // A code of this client redeemed by another, a wrong redirect_uri, an expired code.
    let (_, code) = insert_code(&s, CodeRequest::new(&client, &user, scope)).await;
    redeem(
        code.clone(),
        (other.clone(), other_secret.clone()),
        REDIRECT,
    )
    .await
    .err(400, "invalid_grant");
    redeem(code.clone(), me.clone(), "https://rp.example.com/other")
        .await
        .err(400, "invalid_grant");
    // The client still gets it with the right parameters.
    redeem(code, me.clone(), REDIRECT).await.ok();
    let mut expired = CodeRequest::new(&client, &user, scope);
    expired.expires_in = -1;
    let (_, code) = insert_code(&s, expired).await;
    redeem(code, me.clone(), REDIRECT)
        .await
        .err(400, "invalid_grant");
    redeem("unknown".into(), me.clone(), REDIRECT)
        .await
        .err(400, "invalid_grant");
    token(
        &s,
        Some((&client, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
    .err(400, "invalid_request");
    // The wrong secret, the wrong method for a basic app (post).
    let (_, code) = insert_code(&s, CodeRequest::new(&client, &user, scope)).await;
    redeem(code.clone(), (client.clone(), "wrong".into()), REDIRECT)
        .await
        .err(401, "invalid_client");
    token(
        &s,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client),
            ("client_secret", &secret),
        ],
    )
    .await
    .err(401, "invalid_client");

    // A JWT access token for the JWT app; no refresh token without offline_access.
    let (_, code) = insert_code(&s, CodeRequest::new(&other, &user, "openid email")).await;
    let b = redeem(code, (other.clone(), other_secret.clone()), REDIRECT)
        .await
        .ok()
        .clone();
    assert!(b.get("refresh_token").is_none(), "{b}");
    let claims = verify_with_jwks(&s, b["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["client_id"], other.as_str());
    assert_eq!(claims["sid"], "sess1");
    assert_eq!(claims["scope"], "openid email");
});

/// `at_hash` as OIDC Core defines it for RS256.
fn castellan_oidc_at_hash(at: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, at.as_bytes());
    B64URL.encode(&d.as_ref()[..16])
}

/// An RFC 7636 verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let v = B64URL.encode(castellan_domain::id::random_bytes::<32>());
    let c = B64URL.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        v.as_bytes(),
    ));
    (v, c)
}

both!(
    public_clients_need_pkce_and_private_key_jwt_clients_sign,
    |s: TestServer| async move {
        let user = human(&s).await;
        let p = project(&s, "pkce-project").await;
        let (_, spa, _) = web_app(
            &s,
            &p,
            "spa",
            "OIDC_AUTH_METHOD_TYPE_NONE",
            "OIDC_TOKEN_TYPE_BEARER",
        )
        .await;
        let (verifier, challenge) = pkce();
        let with_pkce = || {
            let mut r = CodeRequest::new(&spa, &user, "openid");
            r.challenge = challenge.clone();
            r.challenge_method = "S256".into();
            r
        };
        let redeem = |code: String, verifier: Option<String>| {
            let (s, spa) = (&s, spa.clone());
            async move {
                let mut f = vec![
                    ("grant_type", "authorization_code".to_string()),
                    ("code", code),
                    ("redirect_uri", REDIRECT.to_string()),
                    ("client_id", spa),
                ];
                if let Some(v) = verifier {
                    f.push(("code_verifier", v));
                }
                let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
                token(s, None, &f).await
            }
        };
        let (_, code) = insert_code(&s, with_pkce()).await;
        redeem(code.clone(), Some(pkce().0))
            .await
            .err(400, "invalid_grant");
        let (_, code) = insert_code(&s, with_pkce()).await;
        redeem(code.clone(), None).await.err(400, "invalid_grant");
        let (_, code) = insert_code(&s, with_pkce()).await;
        let b = redeem(code, Some(verifier.clone())).await.ok().clone();
        assert!(b["id_token"].is_string());
        // A public client cannot introspect (no authentication), but may revoke its token.
        let at = b["access_token"].as_str().expect("at").to_string();
        post_form(
            &s,
            None,
            "/oauth/v2/introspect",
            None,
            &[("token", &at), ("client_id", &spa)],
        )
        .await
        .err(401, "invalid_client");
        let r = post_form(
            &s,
            None,
            "/oauth/v2/revoke",
            None,
            &[("token", &at), ("client_id", &spa)],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let rows = super::smtp::raw(&s.db_url, "SELECT id FROM oidc_revocations").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        // A public client without PKCE gets nothing.
        let (_, code) = insert_code(&s, CodeRequest::new(&spa, &user, "openid")).await;
        redeem(code, None).await.err(400, "invalid_grant");
        // A failed PKCE check uses the code up: the right verifier comes too late.
        let (_, code) = insert_code(&s, with_pkce()).await;
        redeem(code.clone(), Some(pkce().0))
            .await
            .err(400, "invalid_grant");
        redeem(code, Some(verifier.clone()))
            .await
            .err(400, "invalid_grant");

        // private_key_jwt: an assertion signed with the app's key.
        let (app_id, pkj, _) = web_app(
            &s,
            &p,
            "pkj",
            "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
            "OIDC_TOKEN_TYPE_BEARER",
        )
        .await;
        let (kid, pem) = key(
            &s,
            &format!("/management/v1/projects/{p}/apps/{app_id}/keys"),
        )
        .await;
        let assertion = |aud: String, jti: &str| {
            sign(
                &pem,
                &kid,
                &json!({"iss": pkj, "sub": pkj, "aud": aud, "iat": now(), "exp": now() + 120, "jti": jti}),
            )
        };
        let redeem_pkj = |code: String, assertion: String| {
            let s = &s;
            async move {
                token(
                    s,
                    None,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT),
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ),
                        ("client_assertion", &assertion),
                    ],
                )
                .await
            }
        };
        let (_, code) = insert_code(&s, CodeRequest::new(&pkj, &user, "openid")).await;
        redeem_pkj(
            code.clone(),
            assertion("https://elsewhere.example".into(), "j0"),
        )
        .await
        .err(401, "invalid_client");
        let a1 = assertion(s.origin(), "j1");
        redeem_pkj(code, a1.clone()).await.ok();
        // The same assertion again is a replay.
        let (_, code) = insert_code(&s, CodeRequest::new(&pkj, &user, "openid")).await;
        redeem_pkj(code.clone(), a1)
            .await
            .err(401, "invalid_client");
        redeem_pkj(code.clone(), assertion(s.url("/oauth/v2/token"), "j2"))
            .await
            .ok();
        // A secret is no way in for a private_key_jwt app.
        let (_, code) = insert_code(&s, CodeRequest::new(&pkj, &user, "openid")).await;
        token(
            &s,
            Some((&pkj, "whatever")),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await
        .err(401, "invalid_client");
    }
);

both!(
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    |s: TestServer| async move {
        let user = human(&s).await;
        let p = project(&s, "refresh-project").await;
        let (_, client, secret) = web_app(
            &s,
            &p,
            "web",
            "OIDC_AUTH_METHOD_TYPE_POST",
            "OIDC_TOKEN_TYPE_BEARER",
        )
        .await;
        let (_, other, other_secret) = web_app(
            &s,
            &p,
            "other",
            "OIDC_AUTH_METHOD_TYPE_POST",
            "OIDC_TOKEN_TYPE_BEARER",
        )
        .await;
        let (_, code) = insert_code(
            &s,
            CodeRequest::new(&client, &user, "openid email offline_access"),
        )
        .await;
        let b = token(
            &s,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client),
                ("client_secret", &secret),
            ],
        )
        .await
        .ok()
        .clone();
        let rt1 = b["refresh_token"].as_str().expect("rt").to_string();
        let refresh = |rt: String, scope: Option<&'static str>, who: (String, String)| {
            let s = &s;
            async move {
                let mut f = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                    ("client_id", who.0.as_str()),
                    ("client_secret", who.1.as_str()),
                ];
                if let Some(sc) = scope {
                    f.push(("scope", sc));
                }
                token(s, None, &f).await
            }
        };
        let me = (client.clone(), secret.clone());
        // Another client cannot use it; a wider scope is refused.
        refresh(rt1.clone(), None, (other.clone(), other_secret.clone()))
            .await
            .err(400, "invalid_grant");
        refresh(rt1.clone(), Some("openid email profile"), me.clone())
            .await
            .err(400, "invalid_scope");
        // Rotation: a new refresh token, a new access token, an ID token; narrowing is fine.
        let r = refresh(rt1.clone(), Some("openid"), me.clone()).await;
        let b2 = r.ok().clone();
        assert_eq!(r.header("cache-control"), "no-store");
        assert_eq!(b2["scope"], "openid");
        let rt2 = b2["refresh_token"].as_str().expect("rt2").to_string();
        assert_ne!(rt1, rt2);
        let id = verify_with_jwks(&s, b2["id_token"].as_str().expect("id_token")).await;
        assert_eq!(id["sub"], user.as_str());
        let at2 = b2["access_token"].as_str().expect("at2").to_string();
        let b3 = refresh(rt2.clone(), None, me.clone()).await.ok().clone();
        assert_eq!(
            b3["scope"], "openid email offline_access",
            "the family keeps its grant"
        );
        let rt3 = b3["refresh_token"].as_str().expect("rt3").to_string();
        let at3 = b3["access_token"].as_str().expect("at3").to_string();
        let intro = |t: String| {
            let (s, c, sec) = (&s, client.clone(), secret.clone());
            async move { super::oidc_introspect::introspect_post(s, (&c, &sec), &t).await }
        };
        assert_eq!(intro(at2.clone()).await["active"], true);
        assert_eq!(intro(at3.clone()).await["active"], true);
        // Reuse of a rotated token: refused, and the whole family ends, access tokens included.
        refresh(rt1, None, me.clone())
            .await
            .err(400, "invalid_grant");
        refresh(rt3, None, me.clone())
            .await
            .err(400, "invalid_grant");
        assert_eq!(intro(at2).await, json!({"active": false}));
        assert_eq!(intro(at3).await, json!({"active": false}));
        refresh("garbage".into(), None, me)
            .await
            .err(400, "invalid_grant");
    }
);

both!(grant_types_are_the_apps, |s: TestServer| async move {
    let user = human(&s).await;
    let p = project(&s, "grants-project").await;
    // A web app with the code grant only: no refresh tokens, even with offline_access.
    let (_, client, secret) = app(
        &s,
        &p,
        "oidc",
        json!({
            "name": "code-only",
            "redirectUris": [REDIRECT],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
            "devMode": true,
        }),
    )
    .await;
    let (_, code) = insert_code(
        &s,
        CodeRequest::new(&client, &user, "openid offline_access"),
    )
    .await;
    let b = token(
        &s,
        Some((&client, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
    .ok()
    .clone();
    assert!(b.get("refresh_token").is_none(), "{b}");
    token(
        &s,
        Some((&client, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await
    .err(400, "unauthorized_client");
    // An API app has no grants at the token endpoint.
    let (_, api, api_secret) = app(&s, &p, "api", json!({"name": "api"})).await;
    let (_, code) = insert_code(&s, CodeRequest::new(&api, &user, "openid")).await;
    token(
        &s,
        Some((&api, &api_secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
    .err(400, "unauthorized_client");
});

both!(
    concurrent_redemptions_of_a_code,
    |s: TestServer| async move {
        let user = human(&s).await;
        let p = project(&s, "race-project").await;
        let (_, client, secret) = web_app(
            &s,
            &p,
            "web",
            "OIDC_AUTH_METHOD_TYPE_BASIC",
            "OIDC_TOKEN_TYPE_BEARER",
        )
        .await;
        let (_, code) = insert_code(&s, CodeRequest::new(&client, &user, "openid")).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let who = Some((client.as_str(), secret.as_str()));
        let answers = futures_util::future::join_all((0..4).map(|_| token(&s, who, &form))).await;
        let won: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
        // At most one redemption wins; none when a loser's revocation lands before the
        // winner's last check (the grant is revoked either way).
        assert!(won.len() <= 1, "at most one redemption wins");
        for a in answers.iter().filter(|a| a.status != 200) {
            a.err(400, "invalid_grant");
        }
        // The losers presented a used code: the grant is revoked, the winner's token too.
        if let Some(w) = won.first() {
            let at = w.body["access_token"].as_str().expect("at").to_string();
            let r = super::oidc_introspect::introspect(&s, (&client, &secret), &at).await;
            assert_eq!(r, json!({"active": false}));
        }
    }
);
