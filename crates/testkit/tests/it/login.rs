//! The authorization endpoint and the hosted login, driven like a browser: a small client keeps
//! the session cookie, follows redirects inside the server and fills forms by field name. The
//! code's redemption belongs to the token endpoint; these tests stop at the code.

use super::*;

pub const PASSWORD: &str = "Secret-Pw-123!";
pub const REDIRECT: &str = "https://rp.example.com/cb";

/// A browser: one cookie (the session cookie), no automatic redirects.
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

/// One answer: status, `Location`, body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Page {
    /// The value of the form field `name` (as rendered: `name="x" value="y"`).
    pub fn field(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" ");
        let at = self.body.find(&needle)?;
        let rest = &self.body[at + needle.len()..];
        let rest = &rest[rest.find("value=\"")? + 7..];
        Some(unescape(&rest[..rest.find('"')?]))
    }

    /// The login name page (served by `/authorize` itself or at `/ui/login/login`).
    pub fn is_login_name_page(&self) -> bool {
        self.status == 200
            && self.body.contains("action=\"/ui/login/loginname\"")
            && self.field("authRequestID").is_some()
    }

    /// The parameters of a redirect to the client (query or fragment).
    pub fn params(&self) -> std::collections::HashMap<String, String> {
        let part = self
            .location
            .split_once('#')
            .or_else(|| self.location.split_once('?'))
            .map(|x| x.1)
            .unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(part)
            .unwrap_or_default()
            .into_iter()
            .collect()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new(s: &TestServer) -> Browser {
        Browser {
            base: s.base.clone(),
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    fn abs(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_string()
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", format!("castellan.useragent={c}")),
            None => req,
        };
        let r = req.send().await.expect("send");
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap_or_default();
            if let Some(rest) = v.strip_prefix("castellan.useragent=") {
                let val = rest.split(';').next().unwrap_or_default();
                self.cookie = (!val.is_empty()).then(|| val.to_string());
            }
        }
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Page {
            status,
            location,
            body: r.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let req = self.http.get(self.abs(url));
        self.send(req).await
    }

    /// A GET with extra `headers` (as a browser sends `Accept-Language`).
    pub async fn get_with(&mut self, url: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.http.get(self.abs(url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    pub async fn post(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let req = self
            .http
            .post(self.abs(url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Follows redirects inside the server; stops at a page or a redirect elsewhere.
    pub async fn follow(&mut self, mut p: Page) -> Page {
        for _ in 0..10 {
            if !(300..400).contains(&p.status) || !p.location.starts_with('/') {
                return p;
            }
            let to = p.location.clone();
            p = self.get(&to).await;
        }
        p
    }

    /// Submits a form of page `p` to `action` with its hidden fields plus `fields`.
    pub async fn submit(&mut self, p: &Page, action: &str, fields: &[(&str, &str)]) -> Page {
        let req_id = p.field("authRequestID").expect("authRequestID on the page");
        let csrf = p
            .field("gorilla.csrf.Token")
            .expect("csrf token on the page");
        let mut all: Vec<(&str, &str)> =
            vec![("authRequestID", &req_id), ("gorilla.csrf.Token", &csrf)];
        all.extend_from_slice(fields);
        let r = self.post(action, &all).await;
        self.follow(r).await
    }

    /// Login name then password from the login page `p`; returns where that leads.
    pub async fn sign_in(&mut self, p: &Page, login: &str, password: &str) -> Page {
        assert!(
            p.body.contains("name=\"loginName\""),
            "not the login page: {p:?}"
        );
        let pw = self
            .submit(p, "/ui/login/loginname", &[("loginName", login)])
            .await;
        assert!(
            pw.body.contains("name=\"password\""),
            "not the password page: {pw:?}"
        );
        let lname = pw.field("loginName").expect("loginName");
        self.submit(
            &pw,
            "/ui/login/password",
            &[("loginName", &lname), ("password", password)],
        )
        .await
    }
}

/// A project with an OIDC web app (code flow, basic auth) redirecting to `REDIRECT`; returns
/// the client id.
pub async fn oidc_app(s: &TestServer, extra: Value) -> String {
    oidc_app_ids(s, extra).await.2
}

/// [`oidc_app`], returning (project id, app id, client id).
pub async fn oidc_app_ids(s: &TestServer, extra: Value) -> (String, String, String) {
    let (project, r) = oidc_app_created(s, extra).await;
    let id = |k: &str| r[k].as_str().expect(k).to_string();
    (project, id("appId"), id("clientId"))
}

/// [`oidc_app`], returning (client id, client secret).
pub async fn oidc_app_secret(s: &TestServer, extra: Value) -> (String, String) {
    let (_, r) = oidc_app_created(s, extra).await;
    let id = |k: &str| r[k].as_str().expect(k).to_string();
    (id("clientId"), id("clientSecret"))
}

/// Creates [`oidc_app`]'s project and app; returns the project id and AddOIDCApp's answer.
async fn oidc_app_created(s: &TestServer, extra: Value) -> (String, Value) {
    let p = ok(s
        .admin(
            "POST",
            "/management/v1/projects",
            Some(json!({"name": "RP"})),
        )
        .await);
    let project = p["id"].as_str().expect("project").to_string();
    let mut body = json!({
        "name": "web",
        "redirectUris": [REDIRECT],
        "postLogoutRedirectUris": ["https://rp.example.com/bye"],
        "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
        "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
        "appType": "OIDC_APP_TYPE_WEB",
        "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let r = ok(s
        .admin(
            "POST",
            &format!("/management/v1/projects/{project}/apps/oidc"),
            Some(body),
        )
        .await);
    (project, r)
}

/// A human in the default org with `PASSWORD`; returns (id, login name).
pub async fn human(s: &TestServer, user_name: &str, change_required: bool) -> (String, String) {
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/human/_import",
            Some(json!({
                "userName": user_name,
                "profile": {"firstName": "Ada", "lastName": "Lovelace"},
                "email": {"email": format!("{user_name}@example.com"), "isEmailVerified": true},
                "password": PASSWORD,
                "passwordChangeRequired": change_required,
            })),
        )
        .await);
    let id = r["userId"].as_str().expect("userId").to_string();
    let u = ok(s
        .admin("GET", &format!("/management/v1/users/{id}"), None)
        .await);
    let login = u["user"]["preferredLoginName"]
        .as_str()
        .expect("login name")
        .to_string();
    (id, login)
}

/// The authorize URL for `client` with extra parameters.
pub fn authorize_url(client: &str, extra: &str) -> String {
    format!(
        "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=code&scope=openid%20profile&state=st4te&nonce=n0nce{extra}",
        urlencode(REDIRECT)
    )
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).expect("enc")[2..].to_string()
}

/// One column of a row, through the server's database.
pub async fn db_text(s: &TestServer, sql: String) -> Vec<String> {
    super::smtp::raw(&s.db_url, Box::leak(sql.into_boxed_str())).await
}

/// A full login from authorize to the code on the redirect URI.
pub async fn login_to_code(s: &TestServer, b: &mut Browser, client: &str, login: &str) -> Page {
    let p = b.get(&authorize_url(client, "")).await;
    let p = b.follow(p).await;
    let done = b.sign_in(&p, login, PASSWORD).await;
    assert!(done.location.starts_with(REDIRECT), "{done:?}");
    let _ = s;
    done
}

both!(
    authorize_rejects_bad_clients_on_a_page,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let mut b = Browser::new(&s);
        // Unknown client: an error page, no redirect.
        let p = b.get(&authorize_url("nobody", "")).await;
        assert_eq!(p.status, 400, "{p:?}");
        assert!(p.location.is_empty());
        assert!(p.body.contains("unknown or not active"), "{}", p.body);
        // Unregistered redirect URI: an error page too.
        let p = b
        .get(&format!(
            "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=code&scope=openid",
            urlencode("https://evil.example.com/cb")
        ))
        .await;
        assert_eq!(p.status, 400);
        assert!(p.location.is_empty());
        assert!(
            p.body.contains("redirect_uri is not registered"),
            "{}",
            p.body
        );
        // Later errors go to the redirect URI with state and iss.
        let p = b
        .get(&format!(
            "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=code&scope=profile&state=abc",
            urlencode(REDIRECT)
        ))
        .await;
        assert_eq!(p.status, 302);
        let q = p.params();
        assert_eq!(q["error"], "invalid_scope", "{p:?}");
        assert_eq!(q["state"], "abc");
        assert_eq!(q["iss"], s.base);
        let p = b.get(&authorize_url(&client, "&response_type=token")).await;
        // the first response_type wins: code (the login page); a bad response_mode is refused.
        assert!(p.is_login_name_page(), "{p:?}");
        let p = b.get(&authorize_url(&client, "&response_mode=weird")).await;
        assert_eq!(p.params()["error"], "invalid_request");
        let p = b
        .get(&format!(
            "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=id_token&scope=openid",
            urlencode(REDIRECT)
        ))
        .await;
        assert_eq!(p.params()["error"], "unauthorized_client");
        let p = b
            .get(&authorize_url(
                &client,
                "&code_challenge=abc&code_challenge_method=plain",
            ))
            .await;
        assert_eq!(p.params()["error"], "invalid_request");
        // POST works like GET (a browser without the cookie yet: the sessions are looked at
        // after a GET).
        let mut b = Browser::new(&s);
        let p = b
            .post(
                "/oauth/v2/authorize",
                &[
                    ("client_id", client.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("response_type", "code"),
                    ("scope", "openid"),
                ],
            )
            .await;
        assert_eq!(p.status, 303);
        let p = b.follow(p).await;
        assert!(p.body.contains("name=\"loginName\""), "{p:?}");
    }
);

both!(
    login_issues_a_code_in_each_response_mode,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (uid, login) = human(&s, "ada", false).await;
        let mut b = Browser::new(&s);
        let done = login_to_code(&s, &mut b, &client, &login).await;
        let q = done.params();
        assert_eq!(q["state"], "st4te");
        assert_eq!(q["iss"], s.base);
        let code = q["code"].clone();
        assert!(code.len() >= 43, "{code}");
        let rows = db_text(
        &s,
        format!("SELECT user_id, session_id, code_hash, nonce FROM oidc_auth_requests WHERE user_id = '{uid}'"),
    )
    .await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(
            rows[0].contains(&castellan_api::authn::hash_secret(&code)),
            "{rows:?}"
        );
        assert!(rows[0].contains("n0nce"));
        // A new browser gets an HttpOnly, SameSite=Lax session cookie on the login page, which
        // the authorization endpoint serves itself (no redirect), with the login pages' headers.
        let p = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(s.url(&authorize_url(&client, "&prompt=login")))
            .send()
            .await
            .expect("send");
        assert_eq!(p.status(), 200);
        assert_eq!(p.headers()["x-frame-options"], "DENY");
        let csp = p.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(p.headers()["cache-control"], "no-store");
        let cookie = p.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string();
        assert!(cookie.starts_with("castellan.useragent="), "{cookie}");
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
        // An unknown request: an error page.
        let p = b.get("/ui/login/login?authRequestID=123").await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("unknown or has expired"), "{}", p.body);
        // The session serves the next requests without pages, in every response mode.
        let p = b
            .get(&authorize_url(&client, "&response_mode=fragment"))
            .await;
        let p = b.follow(p).await;
        assert!(
            p.location.starts_with(&format!("{REDIRECT}#code=")),
            "{p:?}"
        );
        assert_eq!(p.params()["state"], "st4te");
        let p = b
            .get(&authorize_url(&client, "&response_mode=form_post"))
            .await;
        let p = b.follow(p).await;
        assert_eq!(p.status, 200);
        assert!(
            p.body.contains(&format!("action=\"{REDIRECT}\"")),
            "{}",
            p.body
        );
        assert!(p.field("code").is_some_and(|c| c.len() >= 43));
        assert_eq!(p.field("state").as_deref(), Some("st4te"));
        assert!(p.body.contains("<noscript>"));
        // A callback is single-use and bound to the browser.
        let id = rows_id(&s, &uid).await;
        let mut other = Browser::new(&s);
        let p = other
            .get(&format!("/oauth/v2/authorize/callback?id={id}"))
            .await;
        assert_eq!(p.status, 400);
        let p = b
            .get(&format!("/oauth/v2/authorize/callback?id={id}"))
            .await;
        assert_eq!(p.status, 400, "a second code for one request");
    }
);

async fn rows_id(s: &TestServer, uid: &str) -> String {
    let rows = db_text(
        s,
        format!("SELECT id FROM oidc_auth_requests WHERE user_id = '{uid}' ORDER BY created_at"),
    )
    .await;
    // Ids are numeric: keep the digits of the debug-printed row.
    rows[0].chars().filter(char::is_ascii_digit).collect()
}

both!(
    prompt_none_max_age_and_prompt_login,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (_, login) = human(&s, "grace", false).await;
        let mut b = Browser::new(&s);
        // No session: login_required at the redirect URI.
        let p = b.get(&authorize_url(&client, "&prompt=none")).await;
        assert_eq!(p.params()["error"], "login_required", "{p:?}");
        assert_eq!(p.params()["state"], "st4te");
        login_to_code(&s, &mut b, &client, &login).await;
        // With a session: a code without pages.
        let p = b.get(&authorize_url(&client, "&prompt=none")).await;
        let p = b.follow(p).await;
        assert!(p.params().contains_key("code"), "{p:?}");
        // prompt=login shows the login again.
        let p = b.get(&authorize_url(&client, "&prompt=login")).await;
        let p = b.follow(p).await;
        assert!(p.body.contains("name=\"loginName\""), "{p:?}");
        // login_hint prefills the login name.
        let p = b
            .get(&authorize_url(
                &client,
                &format!("&prompt=login&login_hint={}", urlencode(&login)),
            ))
            .await;
        let p = b.follow(p).await;
        assert_eq!(p.field("loginName").as_deref(), Some(login.as_str()));
        // max_age=1 after two seconds forces a new login.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let p = b.get(&authorize_url(&client, "&max_age=1")).await;
        let p = b.follow(p).await;
        assert!(p.body.contains("name=\"loginName\""), "{p:?}");
        let p = b
            .get(&authorize_url(&client, "&max_age=1&prompt=none"))
            .await;
        assert_eq!(p.params()["error"], "login_required");
        // Without max_age the session still serves.
        let p = b.get(&authorize_url(&client, "&prompt=none")).await;
        let p = b.follow(p).await;
        assert!(p.params().contains_key("code"), "{p:?}");
    }
);

both!(
    wrong_password_lockout_and_unlock,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (uid, login) = human(&s, "alan", false).await;
        ok(s.admin(
            "PUT",
            "/admin/v1/policies/password/lockout",
            Some(json!({"maxPasswordAttempts": 3})),
        )
        .await);
        let mut b = Browser::new(&s);
        for _ in 0..3 {
            let p = b.get(&authorize_url(&client, "")).await;
            let p = b.follow(p).await;
            let p = b.sign_in(&p, &login, "wrong-password").await;
            assert_eq!(p.status, 200);
            assert!(
                p.body.contains("The login name or password is wrong."),
                "{}",
                p.body
            );
        }
        let u = ok(s
            .admin("GET", &format!("/management/v1/users/{uid}"), None)
            .await);
        assert_eq!(u["user"]["state"], "USER_STATE_LOCKED");
        // Even the right password fails now.
        let p = b.get(&authorize_url(&client, "")).await;
        let p = b.follow(p).await;
        let p = b.sign_in(&p, &login, PASSWORD).await;
        assert!(p.body.contains("locked"), "{}", p.body);
        assert!(p.location.is_empty());
        ok(s.admin(
            "POST",
            &format!("/management/v1/users/{uid}/_unlock"),
            Some(json!({})),
        )
        .await);
        login_to_code(&s, &mut b, &client, &login).await;
        let events = db_text(
        &s,
        format!("SELECT event_type FROM events WHERE aggregate_id = '{uid}' AND event_type LIKE 'user.human.password.check.%'"),
    )
    .await;
        assert_eq!(
            events.iter().filter(|e| e.contains("failed")).count(),
            3,
            "{events:?}"
        );
        assert_eq!(
            events.iter().filter(|e| e.contains("succeeded")).count(),
            1,
            "{events:?}"
        );
    }
);

both!(
    unknown_user_and_ignore_unknown_usernames,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let mut b = Browser::new(&s);
        let p = b.get(&authorize_url(&client, "")).await;
        let p = b.follow(p).await;
        let p = b
            .submit(&p, "/ui/login/loginname", &[("loginName", "nobody")])
            .await;
        assert!(p.body.contains("could not be found"), "{}", p.body);
    }
);

both!(password_change_required_flow, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (uid, login) = human(&s, "barbara", true).await;
    let mut b = Browser::new(&s);
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    let p = b.sign_in(&p, &login, PASSWORD).await;
    assert!(
        p.body.contains("name=\"change-new-password\""),
        "{}",
        p.body
    );
    let lname = p.field("loginName").expect("loginName");
    // Too simple for the complexity policy.
    let bad = b
        .submit(
            &p,
            "/ui/login/password/change",
            &[
                ("loginName", &lname),
                ("change-old-password", PASSWORD),
                ("change-new-password", "short"),
                ("change-password-confirmation", "short"),
            ],
        )
        .await;
    assert!(
        bad.body.contains("name=\"change-new-password\"") && bad.body.contains("role=\"alert\""),
        "{}",
        bad.body
    );
    let done = b
        .submit(
            &bad,
            "/ui/login/password/change",
            &[
                ("loginName", &lname),
                ("change-old-password", PASSWORD),
                ("change-new-password", "Brand-New-Pw-1!"),
                ("change-password-confirmation", "Brand-New-Pw-1!"),
            ],
        )
        .await;
    assert!(done.params().contains_key("code"), "{done:?}");
    let u = ok(s
        .admin("GET", &format!("/management/v1/users/{uid}"), None)
        .await);
    assert!(u["user"]["human"]["passwordChanged"].is_string(), "{u}");
});

both!(
    registration_allowed_and_forbidden,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let mut b = Browser::new(&s);
        let p = b.get(&authorize_url(&client, "&prompt=create")).await;
        let p = b.follow(p).await;
        assert!(p.body.contains("name=\"firstname\""), "{}", p.body);
        let done = b
            .submit(
                &p,
                "/ui/login/register",
                &[
                    ("firstname", "Reg"),
                    ("lastname", "Istered"),
                    ("email", "reg@example.com"),
                    ("username", "reggie"),
                    ("register-password", "Register-Pw-1!"),
                    ("register-password-confirmation", "Register-Pw-1!"),
                ],
            )
            .await;
        assert!(done.params().contains_key("code"), "{done:?}");
        let users = db_text(
            &s,
            "SELECT id FROM users WHERE username = 'reggie'".to_string(),
        )
        .await;
        assert_eq!(users.len(), 1);
        // Forbidden by the login policy.
        ok(s.admin("PUT", "/admin/v1/policies/login", Some(json!({"allowUsernamePassword": true, "allowRegister": false, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"}))).await);
        let p = b.get(&authorize_url(&client, "&prompt=create")).await;
        let p = b.follow(p).await;
        assert_eq!(p.status, 403, "{}", p.body);
        assert!(p.body.contains("Registration is not allowed"));
        assert!(p.field("firstname").is_none());
    }
);

both!(csrf_and_rate_limit, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (_, login) = human(&s, "edsger", false).await;
    let mut b = Browser::new(&s);
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    let id = p.field("authRequestID").expect("id");
    // Missing and wrong CSRF tokens: 403.
    let r = b
        .post(
            "/ui/login/loginname",
            &[("authRequestID", &id), ("loginName", &login)],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = b
        .post(
            "/ui/login/loginname",
            &[
                ("authRequestID", &id),
                ("gorilla.csrf.Token", "bad"),
                ("loginName", &login),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    // Another browser's token does not work either.
    let mut other = Browser::new(&s);
    let q = other
        .get(&format!("/ui/login/login?authRequestID={id}"))
        .await;
    let foreign = q.field("gorilla.csrf.Token").expect("token");
    let r = b
        .post(
            "/ui/login/loginname",
            &[
                ("authRequestID", &id),
                ("gorilla.csrf.Token", &foreign),
                ("loginName", &login),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    // Password checks per login name are limited.
    let pw = b
        .submit(&p, "/ui/login/loginname", &[("loginName", &login)])
        .await;
    let mut last = 0;
    for _ in 0..12 {
        let r = b
            .submit(
                &pw,
                "/ui/login/password",
                &[("loginName", &login), ("password", "nope")],
            )
            .await;
        last = r.status;
        if last == 429 {
            assert!(r.body.contains("Too many attempts"), "{}", r.body);
            break;
        }
    }
    assert_eq!(last, 429);
});

both_backends!(session_survives_a_restart, |backend: Backend| async move {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let client = oidc_app(&s, json!({})).await;
    let (_, login) = human(&s, "barbara", false).await;
    let mut b = Browser::new(&s);
    login_to_code(&s, &mut b, &client, &login).await;
    let (cfg_url, dir) = (s.db_url.clone(), s.dir.clone());
    s.stop().await;
    let mut cfg = castellan_testkit::test_config(&cfg_url, &dir);
    cfg.log.level = "warn".into();
    let s = TestServer::launch(backend, cfg, dir, false).await;
    let mut b2 = Browser {
        base: s.base.clone(),
        http: b.http.clone(),
        cookie: b.cookie.clone(),
    };
    let p = b2.get(&authorize_url(&client, "&prompt=none")).await;
    let p = b2.follow(p).await;
    assert!(p.params().contains_key("code"), "{p:?}");
    s.stop().await;
});

both!(select_account_with_two_users, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (_, a) = human(&s, "first", false).await;
    let (bid, bl) = human(&s, "second", false).await;
    let mut b = Browser::new(&s);
    login_to_code(&s, &mut b, &client, &a).await;
    let p = b.get(&authorize_url(&client, "&prompt=login")).await;
    let p = b.follow(p).await;
    let done = b.sign_in(&p, &bl, PASSWORD).await;
    assert!(done.params().contains_key("code"));
    // Two sessions: the selection page; prompt=none cannot choose.
    let p = b.get(&authorize_url(&client, "&prompt=none")).await;
    assert_eq!(p.params()["error"], "account_selection_required");
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    assert!(p.body.contains("name=\"userID\""), "{}", p.body);
    assert!(p.body.contains(&a) && p.body.contains(&bl));
    let done = b.submit(&p, "/ui/login/select", &[("userID", &bid)]).await;
    assert!(done.params().contains_key("code"), "{done:?}");
});

/// Signs `login` in on browser `b` for the public `client` (PKCE S256, the ZITADEL audience)
/// and redeems the code: the access token, issued in that browser.
async fn browser_token(
    s: &TestServer,
    b: &mut Browser,
    client: &str,
    login: &str,
    extra: &str,
) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = b64.encode(castellan_domain::id::random_bytes::<32>());
    let challenge = b64.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let url = format!(
        "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=code&scope={}&code_challenge={challenge}&code_challenge_method=S256{extra}",
        urlencode(REDIRECT),
        urlencode("openid urn:zitadel:iam:org:project:id:zitadel:aud"),
    );
    let p = b.get(&url).await;
    let p = b.follow(p).await;
    let done = if p.body.contains("name=\"loginName\"") {
        b.sign_in(&p, login, PASSWORD).await
    } else {
        p
    };
    let code = done
        .params()
        .get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code: {done:?}"));
    let t = super::oidc_token::token(
        s,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", client),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    t.ok()["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn my_sessions(s: &TestServer, token: &str) -> Vec<Value> {
    let r = ok(s
        .call(
            "POST",
            "/auth/v1/users/me/sessions/_search",
            Some(json!({})),
            Some(token),
            None,
        )
        .await);
    r["result"].as_array().cloned().unwrap_or_default()
}

both!(list_my_user_sessions, |s: TestServer| async move {
    let client = oidc_app(
        &s,
        json!({"appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}),
    )
    .await;
    let (uid, login) = human(&s, "hedy", false).await;
    let (uid2, login2) = human(&s, "grace", false).await;
    // Browser one: hedy, then grace; browser two: hedy.
    let mut b1 = Browser::new(&s);
    let t1 = browser_token(&s, &mut b1, &client, &login, "").await;
    browser_token(&s, &mut b1, &client, &login2, "&prompt=login").await;
    let mut b2 = Browser::new(&s);
    let t2 = browser_token(&s, &mut b2, &client, &login, "").await;

    // A token lists the sessions of the browser it was issued in: every user signed in there.
    let list = my_sessions(&s, &t1).await;
    assert_eq!(list.len(), 2, "{list:?}");
    let mut users: Vec<&str> = list.iter().filter_map(|x| x["userId"].as_str()).collect();
    users.sort_unstable();
    let mut want = [uid.as_str(), uid2.as_str()];
    want.sort_unstable();
    assert_eq!(users, want);
    assert_eq!(list[0]["agentId"], list[1]["agentId"]);
    for x in &list {
        assert_eq!(x["authState"], "SESSION_STATE_ACTIVE");
        assert!(x["sessionId"].as_str().is_some_and(|v| !v.is_empty()));
        assert!(x["loginName"] == login.as_str() || x["loginName"] == login2.as_str());
    }
    let other = my_sessions(&s, &t2).await;
    assert_eq!(other.len(), 1, "{other:?}");
    assert_eq!(other[0]["userId"], uid);
    assert_eq!(other[0]["loginName"], login);
    assert_ne!(other[0]["agentId"], list[0]["agentId"]);

    // A PAT was issued in no browser: nothing.
    let pat = s.token_for(&uid).await;
    assert!(my_sessions(&s, &pat).await.is_empty());

    // Signing out in browser one ends its sessions (and its tokens); browser two keeps its one.
    b1.get("/oidc/v1/end_session").await;
    let r = s
        .call(
            "POST",
            "/auth/v1/users/me/sessions/_search",
            None,
            Some(&t1),
            None,
        )
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    assert_eq!(my_sessions(&s, &t2).await.len(), 1);
    // Without a token: unauthenticated.
    let r = s
        .call(
            "POST",
            "/auth/v1/users/me/sessions/_search",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(r.0, 401);
});

both!(
    cross_site_post_resumes_with_the_cookie,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (_, login) = human(&s, "katherine", false).await;
        let mut b = Browser::new(&s);
        login_to_code(&s, &mut b, &client, &login).await;
        // A cross-site form POST arrives without the SameSite=Lax cookie.
        let mut bare = Browser {
            base: b.base.clone(),
            http: b.http.clone(),
            cookie: None,
        };
        let form = [
            ("client_id", client.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("prompt", "none"),
            ("state", "p0st"),
        ];
        let p = bare.post("/oauth/v2/authorize", &form).await;
        assert_eq!(p.status, 303, "{p:?}");
        assert!(
            p.location.starts_with("/oauth/v2/authorize/resume?id="),
            "{p:?}"
        );
        // The same-site GET that follows carries it: the session serves the request.
        let done = b.follow(p).await;
        assert_eq!(done.params()["state"], "p0st", "{done:?}");
        assert!(done.params().contains_key("code"), "{done:?}");
        // A browser without a session gets login_required.
        let p = bare.post("/oauth/v2/authorize", &form).await;
        let done = bare.follow(p).await;
        assert_eq!(done.params()["error"], "login_required", "{done:?}");
    }
);

both!(username_password_disallowed, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (_, login) = human(&s, "margaret", false).await;
    let mut b = Browser::new(&s);
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    let pw = b
        .submit(&p, "/ui/login/loginname", &[("loginName", &login)])
        .await;
    ok(s.admin("PUT", "/admin/v1/policies/login", Some(json!({"allowUsernamePassword": false, "allowRegister": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"}))).await);
    // A password form shown before the change no longer signs in.
    let r = b
        .submit(
            &pw,
            "/ui/login/password",
            &[("loginName", &login), ("password", PASSWORD)],
        )
        .await;
    assert!(r.location.is_empty(), "{r:?}");
    assert!(r.body.contains("not allowed"), "{}", r.body);
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    assert!(p.body.contains("not allowed"), "{}", p.body);
    assert!(p.field("loginName").is_none());
});

both!(
    registration_errors_stay_on_the_form,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        human(&s, "taken", false).await;
        let mut b = Browser::new(&s);
        let p = b.get(&authorize_url(&client, "&prompt=create")).await;
        let p = b.follow(p).await;
        let fields = |user: &'static str, pw: &'static str, confirm: &'static str| {
            vec![
                ("firstname", "Reg"),
                ("lastname", "Istered"),
                ("email", "reg@example.com"),
                ("username", user),
                ("register-password", pw),
                ("register-password-confirmation", confirm),
            ]
        };
        // Passwords that differ, a password too simple, a taken user name: the form again, with
        // the reason and the typed values (never the passwords).
        let r = b
            .submit(
                &p,
                "/ui/login/register",
                &fields("newbie", "Register-Pw-1!", "Other-Pw-1!"),
            )
            .await;
        assert!(r.body.contains("do not match"), "{}", r.body);
        assert_eq!(r.field("firstname").as_deref(), Some("Reg"));
        assert_eq!(r.field("register-password").as_deref(), Some(""));
        let r = b
            .submit(
                &r,
                "/ui/login/register",
                &fields("newbie", "short", "short"),
            )
            .await;
        assert!(
            r.body.contains("role=\"alert\"") && r.location.is_empty(),
            "{}",
            r.body
        );
        let r = b
            .submit(
                &r,
                "/ui/login/register",
                &fields("taken", "Register-Pw-1!", "Register-Pw-1!"),
            )
            .await;
        assert!(
            r.body.contains("role=\"alert\"") && r.location.is_empty(),
            "{}",
            r.body
        );
        let users = db_text(
            &s,
            "SELECT id FROM users WHERE username = 'newbie'".to_string(),
        )
        .await;
        assert!(users.is_empty());
        let done = b
            .submit(
                &r,
                "/ui/login/register",
                &fields("newbie", "Register-Pw-1!", "Register-Pw-1!"),
            )
            .await;
        assert!(done.params().contains_key("code"), "{done:?}");
    }
);

both!(
    authorize_follows_app_and_project_state,
    |s: TestServer| async move {
        // The authorization endpoint reads clients through the node's read cache: deactivating
        // the app or its project must take effect on the next request.
        let (project, app_id, client) = oidc_app_ids(&s, json!({})).await;
        let mut b = Browser::new(&s);
        let accepted = |p: &Page| p.is_login_name_page();
        let refused = |p: &Page| p.status == 400 && p.body.contains("unknown or not active");
        let p = b.get(&authorize_url(&client, "")).await;
        assert!(accepted(&p), "{p:?}");
        let app_path = format!("/management/v1/projects/{project}/apps/{app_id}");
        ok(
            s.admin("POST", &format!("{app_path}/_deactivate"), Some(json!({})))
                .await,
        );
        let p = b.get(&authorize_url(&client, "")).await;
        assert!(refused(&p), "deactivated app: {p:?}");
        ok(
            s.admin("POST", &format!("{app_path}/_reactivate"), Some(json!({})))
                .await,
        );
        let p = b.get(&authorize_url(&client, "")).await;
        assert!(accepted(&p), "reactivated app: {p:?}");
        let project_path = format!("/management/v1/projects/{project}");
        ok(s.admin(
            "POST",
            &format!("{project_path}/_deactivate"),
            Some(json!({})),
        )
        .await);
        let p = b.get(&authorize_url(&client, "")).await;
        assert!(refused(&p), "deactivated project: {p:?}");
    }
);

both!(
    a_used_request_cannot_be_signed_in_again,
    |s: TestServer| async move {
        // The password form answers with the client's redirect and its code, written in the
        // commit of the password check. Sending the same form again (back button, replay) must
        // not mint a second code for the request.
        let client = oidc_app(&s, json!({})).await;
        let (uid, login) = human(&s, "replay", false).await;
        let mut b = Browser::new(&s);
        let p = b.get(&authorize_url(&client, "")).await;
        let p = b.follow(p).await;
        let pw = b
            .submit(&p, "/ui/login/loginname", &[("loginName", &login)])
            .await;
        let lname = pw.field("loginName").expect("loginName");
        let fields = [("loginName", lname.as_str()), ("password", PASSWORD)];
        let done = b.submit(&pw, "/ui/login/password", &fields).await;
        assert_eq!(done.status, 303, "{done:?}");
        assert!(done.location.starts_with(REDIRECT), "{done:?}");
        let code = done.params()["code"].clone();
        let again = b.submit(&pw, "/ui/login/password", &fields).await;
        assert_eq!(again.status, 400, "{again:?}");
        assert!(again.location.is_empty(), "{again:?}");
        assert!(
            again.body.contains("unknown or has expired"),
            "{}",
            again.body
        );
        let rows = db_text(
            &s,
            format!("SELECT code_hash FROM oidc_auth_requests WHERE user_id = '{uid}'"),
        )
        .await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(
            rows[0].contains(&castellan_api::authn::hash_secret(&code)),
            "the first code stays: {rows:?}"
        );
    }
);

/// The `authRequestID` is the request itself, sealed with the masterkey: the login opens it
/// only unchanged and only in the instance that issued it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_request_opens_only_unchanged_and_in_its_instance() {
    use castellan_testkit::system::SystemUser;
    let sys = SystemUser::new("sys");
    let Some(s) = TestServer::start_with(Backend::Sqlite, |c| sys.configure(c, &[])).await else {
        return;
    };
    let client = oidc_app(&s, json!({})).await;
    let mut b = Browser::new(&s);
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    let id = p.field("authRequestID").expect("authRequestID");
    let page = |id: &str| format!("/ui/login/login?authRequestID={id}");
    let again = b.get(&page(&id)).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert!(again.field("loginName").is_some(), "{}", again.body);
    let mut changed = id.clone().into_bytes();
    let at = changed.len() / 2;
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).expect("ascii");
    let refused = b.get(&page(&changed)).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert!(refused.field("loginName").is_none(), "{}", refused.body);
    let other = sys.create_instance(&s, "Other").await;
    let r = b
        .http
        .get(format!("{}{}", s.base, page(&id)))
        .header("host", format!("{}:{}", other.host, s.port))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap_or_default();
    assert!(!body.contains("name=\"loginName\""), "{body}");
    s.stop().await;
}
