//! The login's rate limits on failed password checks: per user (or login name) and per client
//! address (behind trusted proxies, the one `Forwarded` or `X-Forwarded-For` names), counted in
//! the database
//! so that every node of a cluster holds them.

use super::login::*;
use super::*;
use castellan_testkit::{temp_dir, test_config};

/// A new browser whose requests say they were forwarded for `address` (`X-Forwarded-For`).
fn forwarded_for(s: &TestServer, address: &str) -> Browser {
    with_headers(s, &[("x-forwarded-for", address)])
}

/// A new browser sending `headers` with every request.
fn with_headers(s: &TestServer, headers: &[(&'static str, &str)]) -> Browser {
    let mut h = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        h.insert(*name, value.parse().expect("header"));
    }
    Browser {
        base: s.base.clone(),
        http: reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(h)
            .build()
            .expect("client"),
        cookie: None,
    }
}

/// A new browser on the password page of `login` for `client`.
async fn password_page(s: &TestServer, client: &str, login: &str) -> (Browser, Page) {
    open_password_page(Browser::new(s), client, login).await
}

/// Browser `b` on the password page of `login` for `client`.
async fn open_password_page(mut b: Browser, client: &str, login: &str) -> (Browser, Page) {
    let p = b.get(&authorize_url(client, "")).await;
    let p = b.follow(p).await;
    let pw = b
        .submit(&p, "/ui/login/loginname", &[("loginName", login)])
        .await;
    assert!(pw.body.contains("name=\"password\""), "{pw:?}");
    (b, pw)
}

/// Submits `password` for `login` from the password page `pw`.
async fn check(b: &mut Browser, pw: &Page, login: &str, password: &str) -> Page {
    b.submit(
        pw,
        "/ui/login/password",
        &[("loginName", login), ("password", password)],
    )
    .await
}

fn assert_stopped(p: &Page) {
    assert_eq!(p.status, 429, "{p:?}");
    assert!(p.body.contains("Too many attempts"), "{}", p.body);
}

both!(
    failed_checks_from_one_address_are_limited,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (_, login) = human(&s, "ada", false).await;
        // No trusted proxies: `X-Forwarded-For` is the client's word and changes nothing.
        let b = forwarded_for(&s, "203.0.113.5");
        let (mut b, pw) = open_password_page(b, &client, &login).await;
        fail_sixty(&mut b, &pw).await;
        // The next check from the address is not made, even with a user's right password.
        let b = forwarded_for(&s, "203.0.113.6");
        let (mut b, pw) = open_password_page(b, &client, &login).await;
        assert_stopped(&check(&mut b, &pw, &login, PASSWORD).await);
    }
);

/// 60 failed checks from `b`, for names that name nobody (so no user's own limit of 10 is
/// reached): each answered as a wrong password.
async fn fail_sixty(b: &mut Browser, pw: &Page) {
    for i in 0..60 {
        let p = check(b, pw, &format!("nobody-{i}"), "nope").await;
        assert_eq!(p.status, 200, "{p:?}");
        assert!(p.body.contains("name=\"password\""), "{}", p.body);
    }
}

both_backends!(
    behind_a_trusted_proxy_each_client_has_its_own_budget,
    |backend: Backend| async move {
        let Some(s) = TestServer::start_with(backend, |c| {
            c.trusted_proxies = vec!["127.0.0.0/8".into(), "::1".into()];
        })
        .await
        else {
            return;
        };
        let client = oidc_app(&s, json!({})).await;
        let (_, login) = human(&s, "hedy", false).await;
        let b = forwarded_for(&s, "203.0.113.5");
        let (mut b, pw) = open_password_page(b, &client, &login).await;
        fail_sixty(&mut b, &pw).await;
        assert_stopped(&check(&mut b, &pw, &login, PASSWORD).await);
        // RFC 7239 `Forwarded` names the same client: the same spent budget.
        let b = with_headers(&s, &[("forwarded", "for=203.0.113.5;proto=http")]);
        let (mut b, pw) = open_password_page(b, &client, &login).await;
        assert_stopped(&check(&mut b, &pw, &login, PASSWORD).await);
        // Another client behind the same proxy signs in, also when named by `Forwarded`, which
        // wins over `X-Forwarded-For`.
        let b = forwarded_for(&s, "203.0.113.6");
        let (mut b, pw) = open_password_page(b, &client, &login).await;
        let done = check(&mut b, &pw, &login, PASSWORD).await;
        assert!(done.params().contains_key("code"), "{done:?}");
        let b = with_headers(
            &s,
            &[
                ("forwarded", "for=\"[2001:db8::7]:4711\""),
                ("x-forwarded-for", "203.0.113.5"),
            ],
        );
        let (mut b, pw) = open_password_page(b, &client, &login).await;
        let done = check(&mut b, &pw, &login, PASSWORD).await;
        assert!(done.params().contains_key("code"), "{done:?}");
        s.stop().await;
    }
);

both!(
    a_user_at_the_limit_is_stopped_even_with_the_right_password,
    |s: TestServer| async move {
        let client = oidc_app(&s, json!({})).await;
        let (_, login) = human(&s, "alan", false).await;
        let (_, other) = human(&s, "kurt", false).await;
        let (mut b, pw) = password_page(&s, &client, &login).await;
        for _ in 0..10 {
            assert_eq!(check(&mut b, &pw, &login, "nope").await.status, 200);
        }
        assert_stopped(&check(&mut b, &pw, &login, PASSWORD).await);
        // Another user from the same address still signs in.
        let (mut b, pw) = password_page(&s, &client, &other).await;
        let done = check(&mut b, &pw, &other, PASSWORD).await;
        assert!(done.params().contains_key("code"), "{done:?}");
    }
);

/// Two nodes on one PostgreSQL: failed checks on one node count on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_count_on_every_node() {
    let Some(a) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let node_b = TestServer::launch(
        Backend::Postgres,
        test_config(&a.db_url, &a.dir),
        temp_dir("nodeb"),
        false,
    )
    .await;
    let client = oidc_app(&a, json!({})).await;
    let (_, login) = human(&a, "grace", false).await;
    let (mut b, pw) = password_page(&a, &client, &login).await;
    for _ in 0..10 {
        assert_eq!(check(&mut b, &pw, &login, "nope").await.status, 200);
    }
    let (mut b, pw) = password_page(&node_b, &client, &login).await;
    assert_stopped(&check(&mut b, &pw, &login, PASSWORD).await);
}
