//! Authorization request hints and restrictions: `id_token_hint`, organisation scopes and
//! domain discovery at the login name, `prompt=select_account`, and the branding of the pages.

use super::login::*;
use super::*;

/// An ID token for `sub` signed with the instance's key (as the token endpoint would issue),
/// already expired: hints are accepted after expiry.
async fn id_token(s: &TestServer, sub: &str, aud: &str) -> String {
    let st = s.state();
    let rows = super::smtp::raw(&s.db_url, "SELECT id FROM instances").await;
    let instance: String = rows[0].chars().filter(char::is_ascii_digit).collect();
    let keys = st.keys.get(st, &instance).await.expect("keys");
    let now = castellan_domain::id::now_micros() / 1_000_000;
    keys.signer
        .sign_jwt(
            "JWT",
            &json!({"iss": s.base, "sub": sub, "aud": [aud], "azp": aud, "iat": now - 7200, "exp": now - 3600}),
        )
        .expect("sign")
}

both!(id_token_hint_selects_the_user, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (uid, login) = human(&s, "ada", false).await;
    let (other, _) = human(&s, "bob", false).await;
    let mut b = Browser::new(&s);
    login_to_code(&s, &mut b, &client, &login).await;
    // The signed-in user's (expired) hint: a code without pages.
    let hint = id_token(&s, &uid, &client).await;
    let p = b
        .get(&authorize_url(
            &client,
            &format!("&prompt=none&id_token_hint={hint}"),
        ))
        .await;
    let p = b.follow(p).await;
    assert!(p.params().contains_key("code"), "{p:?}");
    // Another user's hint: no usable session.
    let hint = id_token(&s, &other, &client).await;
    let p = b
        .get(&authorize_url(
            &client,
            &format!("&prompt=none&id_token_hint={hint}"),
        ))
        .await;
    assert_eq!(p.params()["error"], "login_required", "{p:?}");
    // A forged hint (signature of another token): invalid_request.
    let good = id_token(&s, &uid, &client).await;
    let parts: Vec<&str> = good.split('.').collect();
    let forged_claims = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"sub": other, "aud": client}).to_string())
    };
    let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
    let p = b
        .get(&authorize_url(
            &client,
            &format!("&prompt=none&id_token_hint={forged}"),
        ))
        .await;
    assert_eq!(p.params()["error"], "invalid_request", "{p:?}");
    // end_session accepts the hint in place of a client_id.
    let hint = id_token(&s, &uid, &client).await;
    let p = b
        .get(&format!(
            "/oidc/v1/end_session?id_token_hint={hint}&post_logout_redirect_uri={}&state=x",
            urlencode("https://rp.example.com/bye")
        ))
        .await;
    assert_eq!(p.location, "https://rp.example.com/bye?state=x", "{p:?}");
});

both!(org_scope_and_domain_discovery, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (_, admin_like) = human(&s, "inhouse", false).await;
    let org = new_org(&s, "Acme").await;
    ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/orgs/me/domains",
        Some(json!({"domain": "acme.test"})),
    )
    .await);
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        "/management/v1/users/human/_import",
        Some(json!({
            "userName": "wile",
            "profile": {"firstName": "Wile", "lastName": "Coyote"},
            "email": {"email": "wile@example.com", "isEmailVerified": true},
            "password": PASSWORD,
        })),
    )
    .await);
    let wile = r["userId"].as_str().expect("id").to_string();
    // user@verified-domain finds the user of the organisation owning the domain.
    let mut b = Browser::new(&s);
    let p = b.get(&authorize_url(&client, "")).await;
    let p = b.follow(p).await;
    let done = b.sign_in(&p, "wile@acme.test", PASSWORD).await;
    assert!(done.params().contains_key("code"), "{done:?}");
    let rows = db_text(
        &s,
        format!("SELECT id FROM oidc_auth_requests WHERE user_id = '{wile}'"),
    )
    .await;
    assert_eq!(rows.len(), 1);
    // An organisation scope keeps users of other organisations out, without revealing them.
    let mut b = Browser::new(&s);
    let scope = urlencode(&format!("openid urn:zitadel:iam:org:id:{org}"));
    let p = b
        .get(&format!(
            "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=code&scope={scope}",
            urlencode(REDIRECT)
        ))
        .await;
    let p = b.follow(p).await;
    let r = b
        .submit(&p, "/ui/login/loginname", &[("loginName", &admin_like)])
        .await;
    assert!(r.body.contains("could not be found"), "{}", r.body);
    // Inside the organisation the bare user name is enough.
    let done = b.sign_in(&p, "wile", PASSWORD).await;
    assert!(done.params().contains_key("code"), "{done:?}");
    // Under its primary domain scope the field shows the domain after it, and the bare user
    // name signs in; the organisation's label policy can hide that suffix.
    let scope = urlencode("openid urn:zitadel:iam:org:domain:primary:acme.test");
    let url = format!(
        "/oauth/v2/authorize?client_id={client}&redirect_uri={}&response_type=code&scope={scope}",
        urlencode(REDIRECT)
    );
    let suffix = "aria-describedby=\"loginName-suffix\"";
    let mut b = Browser::new(&s);
    let p = b.get(&url).await;
    let p = b.follow(p).await;
    assert!(p.body.contains(suffix), "{}", p.body);
    assert!(
        p.body
            .contains("<span id=\"loginName-suffix\">@acme.test</span>"),
        "{}",
        p.body
    );
    let done = b.sign_in(&p, "wile", PASSWORD).await;
    assert!(done.params().contains_key("code"), "{done:?}");
    let label = "/management/v1/policies/label";
    ok(in_org(
        &s,
        &org,
        "POST",
        label,
        Some(json!({"hideLoginNameSuffix": true})),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{label}/_activate"),
        Some(json!({})),
    )
    .await);
    let mut b = Browser::new(&s);
    let p = b.get(&url).await;
    let p = b.follow(p).await;
    assert!(p.body.contains("name=\"loginName\""), "{}", p.body);
    assert!(!p.body.contains(suffix), "{}", p.body);
});

both!(
    select_account_prompt_and_branding,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (uid, login) = human(&s, "ada", false).await;
        let mut b = Browser::new(&s);
        // Without a session, select_account shows the login.
        let p = b
            .get(&authorize_url(&client, "&prompt=select_account"))
            .await;
        let p = b.follow(p).await;
        assert!(p.body.contains("name=\"loginName\""), "{p:?}");
        assert!(p.body.contains("name=\"viewport\""));
        assert!(p.body.contains("<label for=\"loginName\">"));
        login_to_code(&s, &mut b, &client, &login).await;
        // With one, it shows the selection even for a single user.
        let p = b
            .get(&authorize_url(&client, "&prompt=select_account"))
            .await;
        let p = b.follow(p).await;
        assert!(
            p.body.contains(&format!("name=\"userID\" value=\"{uid}\"")),
            "{}",
            p.body
        );
        // The active label policy colours the pages.
        ok(s.admin("PUT", "/admin/v1/policies/label", Some(json!({"primaryColor": "#123456", "backgroundColor": "#fafafa", "warnColor": "#cd3d56", "fontColor": "#000000"}))).await);
        let p = b.get(&authorize_url(&client, "&prompt=login")).await;
        let p = b.follow(p).await;
        assert!(!p.body.contains("#123456"), "not active yet");
        ok(s.admin(
            "POST",
            "/admin/v1/policies/label/_activate",
            Some(json!({})),
        )
        .await);
        let p = b.get(&authorize_url(&client, "&prompt=login")).await;
        let p = b.follow(p).await;
        assert!(p.body.contains("--primary:#123456"), "{}", p.body);
        // The default theme (auto) follows the browser's scheme with the dark palette (the
        // browser run checks how the pages look); dark or light mode keeps to one palette.
        assert!(
            p.body.contains("@media (prefers-color-scheme:dark)"),
            "{}",
            p.body
        );
        assert!(p.body.contains("--bg:#111827"), "{}", p.body);
        for (mode, dark) in [("THEME_MODE_DARK", true), ("THEME_MODE_LIGHT", false)] {
            activate_label(&s, json!({"primaryColor": "#123456", "backgroundColorDark": "#202020", "themeMode": mode})).await;
            let body = login_page(&mut b, &client).await;
            assert_eq!(body.contains("--bg:#202020"), dark, "{mode}: {body}");
            assert_eq!(body.contains("--bg:#fafafa"), !dark, "{mode}: {body}");
            assert!(!body.contains("prefers-color-scheme"), "{mode}: {body}");
        }
        // Branding cannot make the pages unreadable: a pale primary gets dark button text,
        // and links in it the font colour.
        activate_label(
            &s,
            json!({"primaryColor": "#ffe066", "themeMode": "THEME_MODE_LIGHT"}),
        )
        .await;
        let body = login_page(&mut b, &client).await;
        assert!(body.contains("--on-primary:#000000"), "{body}");
        assert!(body.contains("--link:#000000"), "{body}");
    }
);

// The page language: ui_locales first, then the browser's Accept-Language, then the
// instance's default language, else English; every page of the flow keeps it.
both!(page_language, |s: TestServer| async move {
    let client = oidc_app(&s, json!({})).await;
    let (_, login) = human(&s, "sprache", false).await;
    let page_in =
        |lang: &'static str| move |body: &str| body.contains(&format!("<html lang=\"{lang}\""));
    let (german, english) = (page_in("de"), page_in("en"));
    let mut b = Browser::new(&s);
    let p = b
        .get(&authorize_url(
            &client,
            "&prompt=login&ui_locales=fr%20de-CH%20en",
        ))
        .await;
    let p = b.follow(p).await;
    assert!(
        german(&p.body) && p.body.contains("Anmeldename"),
        "{}",
        p.body
    );
    // The password page and its error stay German.
    let r = b
        .submit(&p, "/ui/login/loginname", &[("loginName", &login)])
        .await;
    assert!(
        german(&r.body) && r.body.contains("Geben Sie Ihr Passwort ein."),
        "{}",
        r.body
    );
    let r = b
        .submit(&r, "/ui/login/password", &[("password", "wrong")])
        .await;
    assert!(
        r.body
            .contains("Der Anmeldename oder das Passwort ist falsch."),
        "{}",
        r.body
    );
    // Registration in German: its checks speak German too.
    let p = b
        .get(&authorize_url(&client, "&prompt=create&ui_locales=de"))
        .await;
    let p = b.follow(p).await;
    assert!(
        german(&p.body) && p.body.contains("Konto erstellen"),
        "{}",
        p.body
    );
    let form = |user: &'static str, pw: &'static str| {
        [
            ("firstname", "Re"),
            ("lastname", "Gistriert"),
            ("email", "re@example.com"),
            ("username", user),
            ("register-password", pw),
            ("register-password-confirmation", pw),
        ]
    };
    let r = b
        .submit(&p, "/ui/login/register", &form("neu", "kurz"))
        .await;
    assert!(
        r.body
            .contains("Das Passwort muss mindestens 8 Zeichen lang sein."),
        "{}",
        r.body
    );
    let r = b
        .submit(&p, "/ui/login/register", &form("neu", "langes-passwort-1!"))
        .await;
    assert!(
        r.body
            .contains("Das Passwort muss einen Großbuchstaben enthalten."),
        "{}",
        r.body
    );
    let r = b
        .submit(
            &p,
            "/ui/login/register",
            &form("sprache", "Langes-Passwort-1!"),
        )
        .await;
    assert!(
        r.body.contains("Dieser Benutzer existiert bereits."),
        "{}",
        r.body
    );
    // Without ui_locales the browser's languages decide, by weight.
    let page = |accept: &'static str| {
        let (s, client) = (&s, &client);
        async move {
            let mut b = Browser::new(s);
            let p = b
                .get_with(
                    &authorize_url(client, "&prompt=login"),
                    &[("accept-language", accept)],
                )
                .await;
            b.follow(p).await.body
        }
    };
    assert!(german(&page("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7").await));
    assert!(english(&page("en;q=0.9,de;q=0.5").await));
    // Without either, the instance's default language.
    assert!(english(&page("").await));
    ok(s.admin("PUT", "/admin/v1/languages/default/de", None).await);
    assert!(german(&page("").await));
    assert!(english(&page("en").await));
    // Pages before any request (device, stops) follow the same order.
    let body = plain_get(&s, "/ui/login/no-such-page", &[]).await;
    assert!(body.contains("Diese Seite existiert nicht."), "{body}");
    let body = plain_get(&s, "/device", &[("accept-language", "en-GB")]).await;
    assert!(body.contains("Connect a device"), "{body}");
    // So do the provider's own pages.
    for (path, accept, says) in [
        (
            "/oauth/v2/authorize?client_id=nope&response_type=code&scope=openid",
            "",
            "Die Anwendung (client_id) ist unbekannt oder nicht aktiv.",
        ),
        ("/oidc/v1/end_session", "", "Sie wurden abgemeldet."),
        (
            "/oidc/v1/end_session",
            "en-US,en",
            "You have been signed out.",
        ),
    ] {
        let body = plain_get(&s, path, &[("accept-language", accept)]).await;
        assert!(body.contains(says), "{path} {accept}: {body}");
    }
    // Discovery lists the languages.
    let d = ok(s
        .call("GET", "/.well-known/openid-configuration", None, None, None)
        .await);
    assert_eq!(d["ui_locales_supported"], json!(["en", "de"]), "{d}");
});

/// Sets the instance's label policy to `settings` and activates it.
async fn activate_label(s: &TestServer, settings: Value) {
    ok(s.admin("PUT", "/admin/v1/policies/label", Some(settings))
        .await);
    ok(s.admin(
        "POST",
        "/admin/v1/policies/label/_activate",
        Some(json!({})),
    )
    .await);
}

/// The body of a GET of `path` with `headers`, without the browser's cookie.
async fn plain_get(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> String {
    let mut req = s.http.get(s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("send").text().await.expect("body")
}

/// The body of the login page a fresh authorization request of `client` shows.
async fn login_page(b: &mut Browser, client: &str) -> String {
    let p = b.get(&authorize_url(client, "&prompt=login")).await;
    b.follow(p).await.body
}

// The active label policy's logo and icon on the pages, light and dark variants by theme mode.
both!(
    logos_and_icons_follow_the_theme,
    |s: TestServer| async move {
        use super::label_assets::{png, upload};
        let client = oidc_app(&s, json!({})).await;
        let mut b = Browser::new(&s);
        assert!(
            !login_page(&mut b, &client).await.contains("class=\"logo\""),
            "no logo yet"
        );
        let mut urls = Vec::new();
        for (slot, colour) in [
            ("logo", [1, 2, 3, 255]),
            ("logo/dark", [4, 5, 6, 255]),
            ("icon", [7, 8, 9, 255]),
            ("icon/dark", [10, 11, 12, 255]),
        ] {
            let (st, v) = upload(
                &s,
                &format!("/assets/v1/instance/policy/label/{slot}"),
                Some(&s.pat),
                None,
                "a.png",
                png(colour),
            )
            .await;
            assert_eq!(st, 200, "{v}");
        }
        ok(s.admin(
            "POST",
            "/admin/v1/policies/label/_activate",
            Some(json!({})),
        )
        .await);
        let policy = ok(s.admin("GET", "/admin/v1/policies/label", None).await)["policy"].clone();
        for field in ["logoUrl", "logoUrlDark", "iconUrl", "iconUrlDark"] {
            urls.push(
                policy[field]
                    .as_str()
                    .unwrap_or_else(|| panic!("{field}: {policy}"))
                    .to_string(),
            );
        }
        let (logo, logo_dark, icon, icon_dark) = (&urls[0], &urls[1], &urls[2], &urls[3]);
        // Auto (the default): both variants, the dark ones for a dark scheme.
        let body = login_page(&mut b, &client).await;
        assert!(body.contains(&format!("<source srcset=\"{logo_dark}\" media=\"(prefers-color-scheme: dark)\"><img class=\"logo\" src=\"{logo}\"")), "{body}");
        assert!(
            body.contains(&format!(
                "<link rel=\"icon\" href=\"{icon}\" media=\"(prefers-color-scheme: light)\">"
            )),
            "{body}"
        );
        assert!(
            body.contains(&format!(
                "<link rel=\"icon\" href=\"{icon_dark}\" media=\"(prefers-color-scheme: dark)\">"
            )),
            "{body}"
        );
        // The images are public, as a browser on the login page fetches them.
        for u in &urls {
            let r = s.http.get(u).send().await.expect("image");
            assert_eq!(r.status(), 200, "{u}");
        }
        // Dark mode: only the dark variants.
        activate_label(&s, json!({"themeMode": "THEME_MODE_DARK"})).await;
        let body = login_page(&mut b, &client).await;
        assert!(
            body.contains(&format!("<img class=\"logo\" src=\"{logo_dark}\"")),
            "{body}"
        );
        assert!(
            body.contains(&format!("<link rel=\"icon\" href=\"{icon_dark}\">")),
            "{body}"
        );
        assert!(!body.contains(&format!("\"{logo}\"")), "{body}");
        assert!(!body.contains("prefers-color-scheme"), "{body}");
    }
);

// Pages drawn before the request is known (the provider's errors, signed out, the login's
// stops) wear the instance's branding too.
both!(every_page_wears_the_branding, |s: TestServer| async move {
    activate_label(
        &s,
        json!({"primaryColor": "#123456", "themeMode": "THEME_MODE_LIGHT"}),
    )
    .await;
    for (method, path, status, says) in [
        (
            "GET",
            "/oauth/v2/authorize?client_id=nope&response_type=code&scope=openid",
            400,
            "unknown or not active",
        ),
        (
            "GET",
            "/oidc/v1/end_session",
            200,
            "You have been signed out",
        ),
        ("GET", "/ui/login/no-such-page", 404, "role=\"alert\""),
        ("POST", "/ui/login/loginname", 403, "role=\"alert\""),
        (
            "GET",
            "/ui/login/login?authRequestID=forged",
            400,
            "role=\"alert\"",
        ),
    ] {
        let r = s
            .http
            .request(method.parse().expect("method"), s.url(path))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .is_ok_and(|v| v.starts_with("text/html")),
            "{path}"
        );
        let body = r.text().await.expect("body");
        assert!(body.contains("--primary:#123456"), "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    // A host that names no instance keeps the plain page.
    let body = plain_get(
        &s,
        "/oidc/v1/end_session",
        &[("host", "no-such-instance.example")],
    )
    .await;
    assert!(!body.contains("--primary"), "{body}");
});
