//! The instance's OIDC settings over REST and gRPC: ZITADEL's defaults, Add once, Update,
//! validation naming the field, and Castellan's extensions (fields 100+).

use super::*;
use castellan_proto::zitadel::admin::v1 as adm;
use castellan_proto::zitadel::admin::v1::admin_service_client::AdminServiceClient;

fn body(at: &str, id: &str, idle: &str, abs: &str) -> Value {
    json!({
        "accessTokenLifetime": at, "idTokenLifetime": id,
        "refreshTokenIdleExpiration": idle, "refreshTokenExpiration": abs
    })
}

both!(oidc_settings_rest_and_grpc, |s: TestServer| async move {
    // Defaults: 12h, 12h, 720h, 2160h, extensions off.
    let g = ok(s.admin("GET", "/admin/v1/settings/oidc", None).await);
    let set = &g["settings"];
    assert_eq!(set["accessTokenLifetime"], "43200s", "{g}");
    assert_eq!(set["idTokenLifetime"], "43200s");
    assert_eq!(set["refreshTokenIdleExpiration"], "2592000s");
    assert_eq!(set["refreshTokenExpiration"], "7776000s");
    assert!(set.get("flatRolesClaim").is_none() || set["flatRolesClaim"] == false);

    // Validation names the field.
    let r = s
        .admin(
            "POST",
            "/admin/v1/settings/oidc",
            Some(body("0s", "3600s", "60s", "60s")),
        )
        .await;
    assert_err(&r, 400, 3, "access_token_lifetime");
    let r = s
        .admin(
            "POST",
            "/admin/v1/settings/oidc",
            Some(json!({"accessTokenLifetime": "60s"})),
        )
        .await;
    assert_err(&r, 400, 3, "id_token_lifetime");
    let r = s
        .admin(
            "PUT",
            "/admin/v1/settings/oidc",
            Some(body("60s", "60s", "7200s", "3600s")),
        )
        .await;
    assert_err(&r, 400, 3, "refresh_token_expiration");
    let r = s
        .admin(
            "PUT",
            "/admin/v1/settings/oidc",
            Some(body("60s", "99999999s", "60s", "60s")),
        )
        .await;
    assert_err(&r, 400, 3, "id_token_lifetime");

    // Add once; a second Add is refused; Update changes; the same Update again changes nothing.
    let mut b = body("3600s", "1800s", "86400s", "172800s");
    b["tokenExchangeEnabled"] = json!(true);
    let r = ok(s
        .admin("POST", "/admin/v1/settings/oidc", Some(b.clone()))
        .await);
    assert!(r["details"]["sequence"].is_string(), "{r}");
    let r = s.admin("POST", "/admin/v1/settings/oidc", Some(b)).await;
    assert_err(&r, 409, 6, "already");
    let mut b = body("600s", "1800s", "86400s", "172800s");
    b["flatRolesClaim"] = json!(true);
    ok(s.admin("PUT", "/admin/v1/settings/oidc", Some(b.clone()))
        .await);
    let r = s.admin("PUT", "/admin/v1/settings/oidc", Some(b)).await;
    assert_eq!(r.0, 400, "{}", r.1);
    let g = ok(s.admin("GET", "/admin/v1/settings/oidc", None).await);
    let set = &g["settings"];
    assert_eq!(set["accessTokenLifetime"], "600s", "{g}");
    assert_eq!(set["refreshTokenExpiration"], "172800s");
    assert_eq!(set["flatRolesClaim"], true);
    assert!(
        set.get("tokenExchangeEnabled").is_none(),
        "Update set it back off: {g}"
    );
    assert!(set["details"]["sequence"].is_string(), "{g}");

    // The provider reads the stored settings.
    let inst = s.instance_id().await;
    let st = castellan_api::app::oidc_settings::of_instance(s.state(), &inst)
        .await
        .expect("settings");
    assert_eq!(st.access_token_lifetime.as_secs(), 600);
    assert!(st.flat_roles_claim && !st.token_exchange_enabled);

    // gRPC.
    let mut c = AdminServiceClient::new(s.channel().await);
    let mut req = tonic::Request::new(adm::GetOidcSettingsRequest {});
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", s.pat).parse().expect("header"),
    );
    let got = c.get_oidc_settings(req).await.expect("grpc").into_inner();
    let set = got.settings.expect("settings");
    assert_eq!(set.access_token_lifetime.map(|d| d.seconds), Some(600));
    assert!(set.flat_roles_claim);
    let mut req = tonic::Request::new(adm::UpdateOidcSettingsRequest {
        access_token_lifetime: Some(prost_types::Duration {
            seconds: -5,
            nanos: 0,
        }),
        ..Default::default()
    });
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", s.pat).parse().expect("header"),
    );
    let e = c.update_oidc_settings(req).await.expect_err("negative");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("access_token_lifetime"),
        "{}",
        e.message()
    );
});
