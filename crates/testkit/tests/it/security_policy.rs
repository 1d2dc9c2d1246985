//! The instance's security policy (admin `GetSecurityPolicy` / `SetSecurityPolicy`) over REST
//! and gRPC, its permissions and validation, and its effect on the login pages' framing
//! headers. Its effect on impersonation is in `oidc_token_exchange`.

use super::*;
use castellan_proto::zitadel::admin::v1 as adm;
use castellan_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;

const PATH: &str = "/admin/v1/policies/security";

/// (X-Frame-Options, Content-Security-Policy) of a GET of `path`.
async fn framing(s: &TestServer, path: &str) -> (Option<String>, String) {
    let r = s.http.get(s.url(path)).send().await.expect("get");
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    (
        h("x-frame-options"),
        h("content-security-policy").unwrap_or_default(),
    )
}

fn authed<T>(s: &TestServer, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", s.pat).parse().expect("header"),
    );
    req
}

both!(security_policy_rest_and_grpc, |s: TestServer| async move {
    let inst = s.instance_id().await;
    // Nothing set: everything off.
    let g = ok(s.admin("GET", PATH, None).await);
    let p = &g["policy"];
    assert!(p.get("enableIframeEmbedding").is_none(), "{g}");
    assert!(p.get("allowedOrigins").is_none(), "{g}");
    assert!(p.get("enableImpersonation").is_none(), "{g}");
    assert_eq!(p["details"]["resourceOwner"], inst.as_str(), "{g}");

    // Set over REST, read back over REST and gRPC.
    let r = ok(s
        .admin(
            "PUT",
            PATH,
            Some(json!({
                "enableIframeEmbedding": true,
                "allowedOrigins": ["https://portal.example.com", " http://localhost:3000 "],
                "enableImpersonation": true,
            })),
        )
        .await);
    assert!(r["details"]["sequence"].is_string(), "{r}");
    let g = ok(s.admin("GET", PATH, None).await);
    let p = &g["policy"];
    assert_eq!(p["enableIframeEmbedding"], true, "{g}");
    assert_eq!(
        p["allowedOrigins"],
        json!(["https://portal.example.com", "http://localhost:3000"])
    );
    assert_eq!(p["enableImpersonation"], true);
    assert_eq!(p["details"]["sequence"], r["details"]["sequence"], "{g}");
    // The same again writes nothing.
    let again = ok(s
        .admin(
            "PUT",
            PATH,
            Some(json!({
                "enableIframeEmbedding": true,
                "allowedOrigins": ["https://portal.example.com", "http://localhost:3000"],
                "enableImpersonation": true,
            })),
        )
        .await);
    assert_eq!(again["details"]["sequence"], r["details"]["sequence"]);

    let mut c = AdminServiceClient::new(s.channel().await);
    let got = c
        .get_security_policy(authed(&s, adm::GetSecurityPolicyRequest {}))
        .await
        .expect("grpc get")
        .into_inner()
        .policy
        .expect("policy");
    assert!(got.enable_iframe_embedding && got.enable_impersonation);
    assert_eq!(got.allowed_origins.len(), 2);
    c.set_security_policy(authed(
        &s,
        adm::SetSecurityPolicyRequest {
            enable_iframe_embedding: false,
            allowed_origins: vec![],
            enable_impersonation: true,
        },
    ))
    .await
    .expect("grpc set");
    let g = ok(s.admin("GET", PATH, None).await);
    assert!(g["policy"].get("enableIframeEmbedding").is_none(), "{g}");
    assert_eq!(g["policy"]["enableImpersonation"], true);

    // Origins only: no path, no wildcard, no header tricks.
    for bad in [
        "https://portal.example.com/",
        "portal.example.com",
        "https://*.example.com",
        "https://a.example; script-src *",
        "",
    ] {
        let r = s
            .admin("PUT", PATH, Some(json!({"allowedOrigins": [bad]})))
            .await;
        assert_err(&r, 400, 3, "allowed_origins");
    }
    let e = c
        .set_security_policy(authed(
            &s,
            adm::SetSecurityPolicyRequest {
                enable_iframe_embedding: true,
                allowed_origins: vec!["javascript:alert(1)".into()],
                enable_impersonation: false,
            },
        ))
        .await
        .expect_err("bad origin");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("allowed_origins"), "{}", e.message());
    // Nothing changed.
    let g = ok(s.admin("GET", PATH, None).await);
    assert_eq!(g["policy"]["enableImpersonation"], true, "{g}");
});

both!(
    security_policy_needs_iam_policy_permissions,
    |s: TestServer| async move {
        let (uid, _) = super::login::human(&s, "nosec", false).await;
        let t = s.token_for(&uid).await;
        assert_err(&s.call("GET", PATH, None, Some(&t), None).await, 403, 7, "");
        assert_err(
            &s.call(
                "PUT",
                PATH,
                Some(json!({"enableImpersonation": true})),
                Some(&t),
                None,
            )
            .await,
            403,
            7,
            "",
        );
        let mut c = AdminServiceClient::new(s.channel().await);
        let mut req = tonic::Request::new(adm::GetSecurityPolicyRequest {});
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
        let e = c.get_security_policy(req).await.expect_err("denied");
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        // Still off.
        let g = ok(s.admin("GET", PATH, None).await);
        assert!(g["policy"].get("enableImpersonation").is_none(), "{g}");
    }
);

both!(
    login_pages_framing_follows_the_policy,
    |s: TestServer| async move {
        let pages = ["/device", "/ui/login/login?authRequestID=unknown"];
        // Default: nobody may frame the login.
        for p in pages {
            let (xfo, csp) = framing(&s, p).await;
            assert_eq!(xfo.as_deref(), Some("DENY"), "{p}");
            assert!(csp.starts_with("frame-ancestors 'none'"), "{p}: {csp}");
        }
        // The login's own directives stay in the same header.
        let (_, csp) = framing(&s, pages[1]).await;
        assert_eq!(csp, "frame-ancestors 'none'; script-src 'none'");

        // Origins without enabling embedding change nothing.
        ok(s.admin(
            "PUT",
            PATH,
            Some(json!({"allowedOrigins": ["https://portal.example.com"]})),
        )
        .await);
        let (xfo, csp) = framing(&s, pages[0]).await;
        assert_eq!(xfo.as_deref(), Some("DENY"));
        assert!(csp.starts_with("frame-ancestors 'none'"), "{csp}");

        // Enabled: the allowed origins, and no X-Frame-Options.
        ok(s.admin(
            "PUT",
            PATH,
            Some(json!({
                "enableIframeEmbedding": true,
                "allowedOrigins": ["https://portal.example.com", "http://localhost:3000"],
            })),
        )
        .await);
        for p in pages {
            let (xfo, csp) = framing(&s, p).await;
            assert_eq!(xfo, None, "{p}");
            assert!(
                csp.starts_with("frame-ancestors https://portal.example.com http://localhost:3000"),
                "{p}: {csp}"
            );
        }
        let (_, csp) = framing(&s, pages[1]).await;
        assert!(csp.ends_with("; script-src 'none'"), "{csp}");

        // Disabled again: denied again.
        ok(s.admin("PUT", PATH, Some(json!({}))).await);
        for p in pages {
            let (xfo, csp) = framing(&s, p).await;
            assert_eq!(xfo.as_deref(), Some("DENY"), "{p}");
            assert!(csp.starts_with("frame-ancestors 'none'"), "{p}: {csp}");
        }
    }
);
