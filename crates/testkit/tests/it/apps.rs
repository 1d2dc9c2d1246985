//! Applications of projects (OIDC, API, SAML) and their keys through the management API, on
//! SQLite and PostgreSQL.

use super::*;
use castellan_proto::zitadel::app::v1 as apb;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// AddProject in `org`; returns the project id.
async fn new_project(s: &TestServer, org: &str, name: &str) -> String {
    let r = ok(in_org(
        s,
        org,
        "POST",
        "/management/v1/projects",
        Some(json!({ "name": name })),
    )
    .await);
    r["id"].as_str().expect("project id").to_string()
}

/// AddOIDCApp in `org`; returns the answer.
async fn add_oidc(s: &TestServer, org: &str, project: &str, body: Value) -> (u16, Value) {
    in_org(
        s,
        org,
        "POST",
        &format!("/management/v1/projects/{project}/apps/oidc"),
        Some(body),
    )
    .await
}

/// Problem keys of a compliance answer.
fn problem_keys(v: &Value) -> Vec<String> {
    v["complianceProblems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const SP_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com/ENTITY">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;

/// SP metadata with the entity id `https://sp.example.com/{name}`.
fn sp_xml(name: &str) -> String {
    SP_XML.replace("ENTITY", name)
}

/// A tiny HTTP server on 127.0.0.1: `/sp/{name}.xml` serves metadata, `/page` serves HTML,
/// anything else is a 404. Returns its base URL.
async fn metadata_server() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let req = String::from_utf8_lossy(&buf).to_string();
                let path = req.split(' ').nth(1).unwrap_or("/").to_string();
                let (status, ctype, body) = if let Some(name) = path
                    .strip_prefix("/sp/")
                    .and_then(|p| p.strip_suffix(".xml"))
                {
                    ("200 OK", "application/samlmetadata+xml", sp_xml(name))
                } else if path == "/page" {
                    (
                        "200 OK",
                        "text/html",
                        "<html><body>hello</body></html>".to_string(),
                    )
                } else {
                    ("404 Not Found", "text/plain", "not found".to_string())
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

both!(oidc_app_lifecycle, |s: TestServer| async move {
    let org = new_org(&s, "Apps Org").await;
    let p = new_project(&s, &org, "Portal").await;

    let r = ok(add_oidc(
        &s,
        &org,
        &p,
        json!({
            "name": "Web Portal",
            "redirectUris": ["https://portal.example.com/callback"],
            "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
            "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
            "appType": "OIDC_APP_TYPE_WEB",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_POST",
            "postLogoutRedirectUris": ["https://portal.example.com/bye"],
            "version": "OIDC_VERSION_1_0",
            "devMode": true,
            "accessTokenType": "OIDC_TOKEN_TYPE_JWT",
            "accessTokenRoleAssertion": true,
            "idTokenRoleAssertion": true,
            "idTokenUserinfoAssertion": true,
            "clockSkew": "2s",
            "additionalOrigins": ["https://other.example.com"],
            "skipNativeAppSuccessPage": true,
            "backChannelLogoutUri": "https://portal.example.com/backchannel",
            "loginVersion": { "loginV2": { "baseUri": "https://login.example.com" } }
        }),
    )
    .await);
    let app = r["appId"].as_str().expect("appId").to_string();
    let client_id = r["clientId"].as_str().expect("clientId").to_string();
    let secret = r["clientSecret"]
        .as_str()
        .expect("clientSecret")
        .to_string();
    assert!(client_id.chars().all(|c| c.is_ascii_digit()), "{r}");
    assert_ne!(client_id, app);
    assert!(secret.len() >= 43, "{r}");
    assert!(r["noneCompliant"].is_null(), "{r}");
    assert!(r["complianceProblems"].is_null(), "{r}");
    assert_eq!(r["details"]["resourceOwner"], org.as_str());
    assert!(r["details"]["creationDate"].is_string(), "{r}");

    // Read back: every field, and never the secret.
    let path = format!("/management/v1/projects/{p}/apps/{app}");
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert!(!g.to_string().contains(&secret), "secret leaked: {g}");
    let a = &g["app"];
    assert_eq!(a["id"], app.as_str());
    assert_eq!(a["name"], "Web Portal");
    assert_eq!(a["state"], "APP_STATE_ACTIVE");
    assert_eq!(a["details"]["resourceOwner"], org.as_str());
    let c = &a["oidcConfig"];
    assert_eq!(c["clientId"], client_id.as_str());
    assert!(c["clientSecret"].is_null(), "{c}");
    assert_eq!(
        c["redirectUris"],
        json!(["https://portal.example.com/callback"])
    );
    assert_eq!(c["responseTypes"], json!(["OIDC_RESPONSE_TYPE_CODE"]));
    assert_eq!(
        c["grantTypes"],
        json!([
            "OIDC_GRANT_TYPE_AUTHORIZATION_CODE",
            "OIDC_GRANT_TYPE_REFRESH_TOKEN"
        ])
    );
    assert!(c["appType"].is_null(), "WEB is the zero value: {c}");
    assert_eq!(c["authMethodType"], "OIDC_AUTH_METHOD_TYPE_POST");
    assert_eq!(
        c["postLogoutRedirectUris"],
        json!(["https://portal.example.com/bye"])
    );
    assert_eq!(c["devMode"], true);
    assert_eq!(c["accessTokenType"], "OIDC_TOKEN_TYPE_JWT");
    assert_eq!(c["accessTokenRoleAssertion"], true);
    assert_eq!(c["idTokenRoleAssertion"], true);
    assert_eq!(c["idTokenUserinfoAssertion"], true);
    assert_eq!(c["clockSkew"], "2s");
    assert_eq!(c["additionalOrigins"], json!(["https://other.example.com"]));
    assert_eq!(
        c["allowedOrigins"],
        json!(["https://portal.example.com", "https://other.example.com"])
    );
    assert_eq!(c["skipNativeAppSuccessPage"], true);
    assert_eq!(
        c["backChannelLogoutUri"],
        "https://portal.example.com/backchannel"
    );
    assert_eq!(
        c["loginVersion"],
        json!({ "loginV2": { "baseUri": "https://login.example.com" } })
    );
    assert!(c["noneCompliant"].is_null(), "{c}");

    // Listed, found by name, never with the secret.
    let search = format!("/management/v1/projects/{p}/apps/_search");
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &search,
        Some(json!({"queries": [{"nameQuery": {"name": "web", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["id"], app.as_str());
    assert!(!l.to_string().contains(&secret));
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &search,
        Some(json!({"queries": [{"nameQuery": {"name": "nope", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
    )
    .await);
    assert_eq!(total(&l), 0, "{l}");

    // Rename; an unchanged name is a failed precondition.
    ok(in_org(&s, &org, "PUT", &path, Some(json!({"name": "Portal Web"}))).await);
    assert_err(
        &in_org(&s, &org, "PUT", &path, Some(json!({"name": "Portal Web"}))).await,
        400,
        9,
        "not been changed",
    );
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(g["app"]["name"], "Portal Web");

    // A new secret replaces the old one and is shown once.
    let regen = format!("{path}/oidc_config/_generate_client_secret");
    let n = ok(in_org(&s, &org, "POST", &regen, Some(json!({}))).await);
    let secret2 = n["clientSecret"].as_str().expect("secret").to_string();
    assert!(secret2.len() >= 43 && secret2 != secret, "{n}");
    assert!(n["details"]["changeDate"].is_string(), "{n}");
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert!(!g.to_string().contains(&secret2));

    // Update the configuration: a user agent app without secret on http is not compliant.
    let cfg = format!("{path}/oidc_config");
    ok(in_org(
        &s,
        &org,
        "PUT",
        &cfg,
        Some(json!({
            "redirectUris": ["http://spa.example.com/cb"],
            "appType": "OIDC_APP_TYPE_USER_AGENT",
            "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
            "clockSkew": "0.5s"
        })),
    )
    .await);
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    let c = &g["app"]["oidcConfig"];
    assert_eq!(c["appType"], "OIDC_APP_TYPE_USER_AGENT");
    assert_eq!(c["clientId"], client_id.as_str(), "the client id stays");
    assert_eq!(c["clockSkew"], "0.500s");
    assert_eq!(c["noneCompliant"], true);
    assert!(
        problem_keys(c).contains(&"Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb".into()),
        "{c}"
    );
    assert!(c["devMode"].is_null(), "{c}");
    // The same settings again change nothing.
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &cfg,
            Some(json!({
                "redirectUris": ["http://spa.example.com/cb"],
                "appType": "OIDC_APP_TYPE_USER_AGENT",
                "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
                "clockSkew": "0.5s"
            })),
        )
        .await,
        400,
        9,
        "not been changed",
    );
    // Without a secret-based auth method there is no secret to regenerate.
    assert_err(
        &in_org(&s, &org, "POST", &regen, Some(json!({}))).await,
        400,
        9,
        "does not use a client secret",
    );
    // An OIDC app is no API app.
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{path}/api_config"),
            Some(json!({"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})),
        )
        .await,
        400,
        9,
        "not an API application",
    );

    // Deactivate and reactivate, each only once.
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{path}/_deactivate"),
        Some(json!({})),
    )
    .await);
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(g["app"]["state"], "APP_STATE_INACTIVE");
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{path}/_deactivate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "application is not active",
    );
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{path}/_reactivate"),
        Some(json!({})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{path}/_reactivate"),
            Some(json!({})),
        )
        .await,
        400,
        9,
        "not deactivated",
    );

    // The history of this app only.
    let other = ok(add_oidc(
        &s,
        &org,
        &p,
        json!({"name": "Other", "redirectUris": ["https://o.example.com/cb"]}),
    )
    .await);
    let ch = ok(in_org(&s, &org, "POST", &format!("{path}/changes/_search"), None).await);
    let types: Vec<&str> = ch["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter_map(|c| c["eventType"]["key"].as_str())
        .collect();
    assert_eq!(
        types,
        vec![
            "project.application.reactivated",
            "project.application.deactivated",
            "project.application.config.oidc.changed",
            "project.application.config.oidc.secret.changed",
            "project.application.changed",
            "project.application.config.oidc.added",
            "project.application.added",
        ],
        "{ch}"
    );
    assert!(ch["result"][0]["changeDate"].is_string(), "{ch}");
    assert!(!ch.to_string().contains(&secret2));

    // Remove: gone, and a second removal is not found.
    ok(in_org(&s, &org, "DELETE", &path, None).await);
    assert_err(
        &in_org(&s, &org, "GET", &path, None).await,
        404,
        5,
        "application could not be found",
    );
    assert_err(
        &in_org(&s, &org, "DELETE", &path, None).await,
        404,
        5,
        "not be found",
    );
    let l = ok(in_org(&s, &org, "POST", &search, Some(json!({}))).await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["id"], other["appId"]);
});

both!(oidc_compliance, |s: TestServer| async move {
    let org = new_org(&s, "Compliance Org").await;
    let p = new_project(&s, &org, "Compliance").await;
    let nc = "Application.OIDC.V1.NotCompliant";
    let cases = [
        // An http redirect on a user agent app (whatever the dev mode).
        (
            json!({"name": "ua", "redirectUris": ["http://spa.example.com/cb"], "appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}),
            vec![
                nc,
                nc,
                "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb",
            ],
        ),
        // A custom scheme on a web app.
        (
            json!({"name": "web", "redirectUris": ["com.example.app:/cb"]}),
            vec![
                nc,
                "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative",
            ],
        ),
        // Implicit without https.
        (
            json!({"name": "implicit", "redirectUris": ["http://spa.example.com/cb"], "responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN"], "grantTypes": ["OIDC_GRANT_TYPE_IMPLICIT"], "appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}),
            vec![
                nc,
                nc,
                "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed",
            ],
        ),
        // A native app with a secret and an http redirect off localhost.
        (
            json!({"name": "native", "redirectUris": ["http://example.com/cb"], "appType": "OIDC_APP_TYPE_NATIVE"}),
            vec![
                nc,
                nc,
                "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost",
                "Application.OIDC.V1.Native.AuthMethodType.NotNone",
            ],
        ),
        // No redirect URI, refresh tokens without the code flow.
        (
            json!({"name": "refresh", "responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN"], "grantTypes": ["OIDC_GRANT_TYPE_IMPLICIT", "OIDC_GRANT_TYPE_REFRESH_TOKEN"]}),
            vec![
                nc,
                "Application.OIDC.V1.NoRedirectUris",
                "Application.OIDC.V1.GrantType.Refresh.NoAuthCode",
            ],
        ),
    ];
    for (body, want) in cases {
        let r = ok(add_oidc(&s, &org, &p, body.clone()).await);
        assert_eq!(r["noneCompliant"], true, "{body}: {r}");
        assert_eq!(problem_keys(&r), want, "{body}: {r}");
        // Each problem comes with its text, and reading the app shows the same.
        assert!(
            r["complianceProblems"][0]["localizedMessage"]
                .as_str()
                .is_some_and(|m| m.contains("OIDC specification")),
            "{r}"
        );
        let g = ok(in_org(
            &s,
            &org,
            "GET",
            &format!(
                "/management/v1/projects/{p}/apps/{}",
                r["appId"].as_str().expect("id")
            ),
            None,
        )
        .await);
        assert_eq!(problem_keys(&g["app"]["oidcConfig"]), want, "{g}");
    }
    // Compliant but flagged: implicit and code together on a web app with an http redirect.
    let r = ok(add_oidc(
        &s,
        &org,
        &p,
        json!({"name": "both", "redirectUris": ["http://a.example.com/cb"], "responseTypes": ["OIDC_RESPONSE_TYPE_CODE", "OIDC_RESPONSE_TYPE_ID_TOKEN"], "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_IMPLICIT"]}),
    )
    .await);
    assert!(r["noneCompliant"].is_null(), "{r}");
    assert_eq!(
        problem_keys(&r),
        vec!["Application.OIDC.V1.NotAllCombinationsAreAllowed"]
    );
    // Native with PKCE on a loopback address: compliant, no secret.
    let r = ok(add_oidc(
        &s,
        &org,
        &p,
        json!({"name": "cli", "redirectUris": ["http://127.0.0.1:8080/cb", "http://localhost/cb"], "appType": "OIDC_APP_TYPE_NATIVE", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"}),
    )
    .await);
    assert!(r["noneCompliant"].is_null(), "{r}");
    assert!(r["clientSecret"].is_null(), "{r}");
    assert!(r["clientId"].is_string(), "{r}");
});

both!(app_validation, |s: TestServer| async move {
    let org = new_org(&s, "Valid Org").await;
    let p = new_project(&s, &org, "Valid").await;
    let bad = |body: Value, needle: &'static str| {
        let s = &s;
        let (org, p) = (org.clone(), p.clone());
        async move {
            assert_err(&add_oidc(s, &org, &p, body).await, 400, 3, needle);
        }
    };
    bad(json!({"name": " "}), "name must not be empty").await;
    bad(json!({"name": "n".repeat(201)}), "name must be at most 200").await;
    bad(
        json!({"name": "a", "redirectUris": ["not a uri"]}),
        "redirectUris[0] \"not a uri\" is not an absolute URI",
    )
    .await;
    bad(
        json!({"name": "a", "redirectUris": ["https://ok.example.com", "https://"]}),
        "redirectUris[1]",
    )
    .await;
    bad(
        json!({"name": "a", "postLogoutRedirectUris": ["/relative"]}),
        "postLogoutRedirectUris[0]",
    )
    .await;
    bad(
        json!({"name": "a", "additionalOrigins": ["https://a.example.com/path"]}),
        "additionalOrigins[0]",
    )
    .await;
    bad(
        json!({"name": "a", "clockSkew": "6s"}),
        "clockSkew must be between 0s and 5s",
    )
    .await;
    bad(json!({"name": "a", "clockSkew": "-1s"}), "clockSkew").await;
    bad(
        json!({"name": "a", "responseTypes": ["OIDC_RESPONSE_TYPE_ID_TOKEN"]}),
        "grantTypes must contain OIDC_GRANT_TYPE_IMPLICIT",
    )
    .await;
    bad(
        json!({"name": "a", "backChannelLogoutUri": "ftp://x.example.com"}),
        "backChannelLogoutUri",
    )
    .await;
    bad(
        json!({"name": "a", "appType": "OIDC_APP_TYPE_NOPE"}),
        "appType",
    )
    .await;
    bad(
        json!({"name": "a", "grantTypes": ["OIDC_GRANT_TYPE_NOPE"]}),
        "grantTypes",
    )
    .await;
    // API and SAML apps name their fields too.
    let api = format!("/management/v1/projects/{p}/apps/api");
    assert_err(
        &in_org(&s, &org, "POST", &api, Some(json!({"name": ""}))).await,
        400,
        3,
        "name must not be empty",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &api,
            Some(json!({"name": "a", "authMethodType": "API_AUTH_METHOD_TYPE_NOPE"})),
        )
        .await,
        400,
        3,
        "authMethodType",
    );
    let saml = format!("/management/v1/projects/{p}/apps/saml");
    assert_err(
        &in_org(&s, &org, "POST", &saml, Some(json!({"name": "a"}))).await,
        400,
        3,
        "metadataXml or metadataUrl must be set",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &saml,
            Some(json!({"name": "a", "metadataUrl": "file:///etc/passwd"})),
        )
        .await,
        400,
        3,
        "metadataUrl \"file:///etc/passwd\" must be an http(s) URL",
    );
    // An unknown project or app is not found.
    assert_err(
        &add_oidc(&s, &org, "123", json!({"name": "a"})).await,
        404,
        5,
        "project could not be found",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "GET",
            &format!("/management/v1/projects/{p}/apps/123"),
            None,
        )
        .await,
        404,
        5,
        "application could not be found",
    );
});

both!(api_apps_and_keys, |s: TestServer| async move {
    use base64::Engine;
    let org = new_org(&s, "Api Org").await;
    let p = new_project(&s, &org, "Api").await;
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/apps/api"),
        Some(json!({"name": "Resource Server"})),
    )
    .await);
    let app = r["appId"].as_str().expect("appId").to_string();
    let client_id = r["clientId"].as_str().expect("clientId").to_string();
    let secret = r["clientSecret"]
        .as_str()
        .expect("clientSecret")
        .to_string();
    assert!(secret.len() >= 43);
    let path = format!("/management/v1/projects/{p}/apps/{app}");
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(g["app"]["apiConfig"]["clientId"], client_id.as_str());
    assert!(
        g["app"]["apiConfig"]["authMethodType"].is_null(),
        "BASIC is zero: {g}"
    );
    assert!(!g.to_string().contains(&secret));

    let regen = format!("{path}/api_config/_generate_client_secret");
    let n = ok(in_org(&s, &org, "POST", &regen, Some(json!({}))).await);
    assert_ne!(n["clientSecret"].as_str().expect("secret"), secret);

    // Keys need private_key_jwt.
    let keys = format!("{path}/keys");
    let key_body = json!({"type": "KEY_TYPE_JSON", "expirationDate": "2519-04-01T08:45:00Z"});
    assert_err(
        &in_org(&s, &org, "POST", &keys, Some(key_body.clone())).await,
        400,
        9,
        "not private_key_jwt",
    );
    ok(in_org(
        &s,
        &org,
        "PUT",
        &format!("{path}/api_config"),
        Some(json!({"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})),
    )
    .await);
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(
        g["app"]["apiConfig"]["authMethodType"],
        "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"
    );
    assert_err(
        &in_org(&s, &org, "POST", &regen, Some(json!({}))).await,
        400,
        9,
        "does not use a client secret",
    );

    // Bad keys name the field.
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &keys,
            Some(json!({"expirationDate": "2519-04-01T08:45:00Z"})),
        )
        .await,
        400,
        3,
        "type must be KEY_TYPE_JSON",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &keys,
            Some(json!({"type": "KEY_TYPE_JSON", "expirationDate": "2001-01-01T00:00:00Z"})),
        )
        .await,
        400,
        3,
        "expirationDate must be in the future",
    );

    // The key file is returned once and parses.
    let k = ok(in_org(&s, &org, "POST", &keys, Some(key_body.clone())).await);
    let key_id = k["id"].as_str().expect("id").to_string();
    let file = base64::engine::general_purpose::STANDARD
        .decode(k["keyDetails"].as_str().expect("keyDetails"))
        .expect("base64");
    let file: Value = serde_json::from_slice(&file).expect("key file is JSON");
    assert_eq!(file["type"], "application");
    assert_eq!(file["keyId"], key_id.as_str());
    assert_eq!(file["appId"], app.as_str());
    assert_eq!(file["clientId"], client_id.as_str());
    assert!(
        file["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("-----BEGIN RSA PRIVATE KEY-----")),
        "{file}"
    );
    let k2 = ok(in_org(
        &s,
        &org,
        "POST",
        &keys,
        Some(json!({"type": "KEY_TYPE_JSON"})),
    )
    .await);

    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{keys}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 2, "{l}");
    assert!(!l.to_string().contains("PRIVATE KEY"), "{l}");
    let g = ok(in_org(&s, &org, "GET", &format!("{keys}/{key_id}"), None).await);
    assert_eq!(g["key"]["id"], key_id.as_str());
    assert_eq!(g["key"]["type"], "KEY_TYPE_JSON");
    assert_eq!(g["key"]["expirationDate"], "2519-04-01T08:45:00Z");
    assert_eq!(g["key"]["details"]["resourceOwner"], org.as_str());

    ok(in_org(&s, &org, "DELETE", &format!("{keys}/{key_id}"), None).await);
    assert_err(
        &in_org(&s, &org, "GET", &format!("{keys}/{key_id}"), None).await,
        404,
        5,
        "application key could not be found",
    );
    assert_err(
        &in_org(&s, &org, "DELETE", &format!("{keys}/{key_id}"), None).await,
        404,
        5,
        "application key could not be found",
    );
    let l = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{keys}/_search"),
        Some(json!({})),
    )
    .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["id"], k2["id"]);

    // OIDC apps with private_key_jwt take keys too.
    let o = ok(add_oidc(
        &s,
        &org,
        &p,
        json!({"name": "jwt", "redirectUris": ["https://a.example.com/cb"], "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}),
    )
    .await);
    assert!(o["clientSecret"].is_null(), "{o}");
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!(
            "/management/v1/projects/{p}/apps/{}/keys",
            o["appId"].as_str().expect("id")
        ),
        Some(key_body),
    )
    .await);

    // Removing the app removes its keys.
    ok(in_org(&s, &org, "DELETE", &path, None).await);
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("{keys}/_search"),
            Some(json!({})),
        )
        .await,
        404,
        5,
        "application could not be found",
    );
});

both!(saml_apps, |s: TestServer| async move {
    use base64::Engine;
    let b64x = |x: &str| base64::engine::general_purpose::STANDARD.encode(x);
    let srv = metadata_server().await;
    let org = new_org(&s, "Saml Org").await;
    let p = new_project(&s, &org, "Saml").await;
    let p2 = new_project(&s, &org, "Saml Two").await;
    let saml = |p: &str| format!("/management/v1/projects/{p}/apps/saml");

    // By XML.
    let xml = sp_xml("one");
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        &saml(&p),
        Some(json!({"name": "SP One", "metadataXml": b64x(&xml), "loginVersion": {"loginV1": {}}})),
    )
    .await);
    let app = r["appId"].as_str().expect("appId").to_string();
    assert!(r["clientSecret"].is_null());
    let path = format!("/management/v1/projects/{p}/apps/{app}");
    let g = ok(in_org(&s, &org, "GET", &path, None).await);
    assert_eq!(g["app"]["name"], "SP One");
    assert_eq!(g["app"]["samlConfig"]["metadataXml"], b64x(&xml));
    assert_eq!(
        g["app"]["samlConfig"]["loginVersion"],
        json!({"loginV1": {}})
    );

    // The entity id is unique in the instance.
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &saml(&p2),
            Some(json!({"name": "dup", "metadataXml": b64x(&xml)})),
        )
        .await,
        409,
        6,
        "entity ID \"https://sp.example.com/one\"",
    );
    let other_org = new_org(&s, "Saml Other").await;
    let op = new_project(&s, &other_org, "Saml").await;
    assert_err(
        &in_org(
            &s,
            &other_org,
            "POST",
            &saml(&op),
            Some(json!({"name": "dup", "metadataXml": b64x(&xml)})),
        )
        .await,
        409,
        6,
        "SAML entity ID already exists",
    );

    // Bad XML is refused, naming the field.
    for (x, needle) in [
        (
            "<html><body/></html>",
            "metadataXml must have an EntityDescriptor",
        ),
        ("<EntityDescriptor/>", "no entityID"),
        (
            "<EntityDescriptor entityID=\"x\"><a></b></EntityDescriptor>",
            "metadataXml is not well-formed XML",
        ),
        ("plain text", "metadataXml contains no EntityDescriptor"),
    ] {
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                &saml(&p2),
                Some(json!({"name": "bad", "metadataXml": b64x(x)})),
            )
            .await,
            400,
            3,
            needle,
        );
    }

    // By URL.
    let url = format!("{srv}/sp/two.xml");
    let r = ok(in_org(
        &s,
        &org,
        "POST",
        &saml(&p2),
        Some(json!({"name": "SP Two", "metadataUrl": url})),
    )
    .await);
    let app2 = r["appId"].as_str().expect("appId").to_string();
    let g = ok(in_org(
        &s,
        &org,
        "GET",
        &format!("/management/v1/projects/{p2}/apps/{app2}"),
        None,
    )
    .await);
    assert_eq!(g["app"]["samlConfig"]["metadataUrl"], url.as_str());
    for (u, needle) in [
        (
            format!("{srv}/missing.xml"),
            "answered HTTP 404".to_string(),
        ),
        (format!("{srv}/page"), "the metadata at".to_string()),
        (
            "http://127.0.0.1:1/sp.xml".to_string(),
            "cannot be fetched".to_string(),
        ),
    ] {
        let res = in_org(
            &s,
            &org,
            "POST",
            &saml(&p2),
            Some(json!({"name": "bad url", "metadataUrl": u})),
        )
        .await;
        assert_err(&res, 400, 3, &needle);
        assert_err(&res, 400, 3, &u);
    }

    // Update: new metadata, a new entity id; the old one is free again.
    let cfg = format!("{path}/saml_config");
    ok(in_org(
        &s,
        &org,
        "PUT",
        &cfg,
        Some(json!({"metadataXml": b64x(&sp_xml("one-b"))})),
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &cfg,
            Some(json!({"metadataXml": b64x(&sp_xml("one-b"))})),
        )
        .await,
        400,
        9,
        "not been changed",
    );
    assert_err(
        &in_org(&s, &org, "PUT", &cfg, Some(json!({"metadataUrl": url}))).await,
        409,
        6,
        "entity ID",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "PUT",
            &format!("{path}/oidc_config"),
            Some(json!({"redirectUris": ["https://a.example.com"]})),
        )
        .await,
        400,
        9,
        "not an OIDC application",
    );
    ok(in_org(
        &s,
        &other_org,
        "POST",
        &saml(&op),
        Some(json!({"name": "reuse", "metadataXml": b64x(&xml)})),
    )
    .await);

    // Removing a project removes its apps: their entity ids are free again.
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/projects/{p2}"),
        None,
    )
    .await);
    assert_err(
        &in_org(
            &s,
            &org,
            "GET",
            &format!("/management/v1/projects/{p2}/apps/{app2}"),
            None,
        )
        .await,
        404,
        5,
        "not be found",
    );
    ok(in_org(
        &s,
        &org,
        "POST",
        &saml(&p),
        Some(json!({"name": "again", "metadataUrl": url})),
    )
    .await);
});

both!(app_access, |s: TestServer| async move {
    let org = new_org(&s, "Access Org").await;
    let other = new_org(&s, "Access Other").await;
    let pa = new_project(&s, &org, "Alpha").await;
    let pb = new_project(&s, &org, "Beta").await;
    let po = new_project(&s, &other, "Other").await;
    let a = ok(add_oidc(
        &s,
        &org,
        &pa,
        json!({"name": "a", "redirectUris": ["https://a.example.com/cb"]}),
    )
    .await);
    let b = ok(add_oidc(
        &s,
        &org,
        &pb,
        json!({"name": "b", "redirectUris": ["https://b.example.com/cb"]}),
    )
    .await);
    let o = ok(add_oidc(
        &s,
        &other,
        &po,
        json!({"name": "o", "redirectUris": ["https://o.example.com/cb"]}),
    )
    .await);
    let oid = o["appId"].as_str().expect("id");

    // Objects of another organisation's project are not found, whatever the route.
    assert_err(
        &in_org(
            &s,
            &org,
            "GET",
            &format!("/management/v1/projects/{po}/apps/{oid}"),
            None,
        )
        .await,
        404,
        5,
        "project could not be found",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "POST",
            &format!("/management/v1/projects/{po}/apps/_search"),
            Some(json!({})),
        )
        .await,
        404,
        5,
        "not be found",
    );
    assert_err(
        &in_org(
            &s,
            &org,
            "DELETE",
            &format!("/management/v1/projects/{po}/apps/{oid}"),
            None,
        )
        .await,
        404,
        5,
        "not be found",
    );
    // An app id of another project in the path is not found either.
    assert_err(
        &in_org(
            &s,
            &org,
            "GET",
            &format!(
                "/management/v1/projects/{pa}/apps/{}",
                b["appId"].as_str().expect("id")
            ),
            None,
        )
        .await,
        404,
        5,
        "application could not be found",
    );

    // A PROJECT_OWNER of Alpha manages Alpha's apps, but not Beta's.
    let (u, token) = machine(&s, Some(&org), "app-owner").await;
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{pa}/members"),
        Some(json!({"userId": u, "roles": ["PROJECT_OWNER"]})),
    )
    .await);
    let l = ok(s
        .call(
            "POST",
            &format!("/management/v1/projects/{pa}/apps/_search"),
            Some(json!({})),
            Some(&token),
            None,
        )
        .await);
    assert_eq!(total(&l), 1, "{l}");
    assert_eq!(l["result"][0]["id"], a["appId"]);
    ok(s.call(
        "POST",
        &format!("/management/v1/projects/{pa}/apps/api"),
        Some(json!({"name": "owned"})),
        Some(&token),
        None,
    )
    .await);
    assert_err(
        &s.call(
            "POST",
            &format!("/management/v1/projects/{pb}/apps/_search"),
            Some(json!({})),
            Some(&token),
            None,
        )
        .await,
        403,
        7,
        "permission",
    );
    assert_err(
        &s.call(
            "GET",
            &format!(
                "/management/v1/projects/{pb}/apps/{}",
                b["appId"].as_str().expect("id")
            ),
            None,
            Some(&token),
            None,
        )
        .await,
        403,
        7,
        "permission",
    );
    assert_err(
        &s.call(
            "POST",
            &format!("/management/v1/projects/{pb}/apps/oidc"),
            Some(json!({"name": "sneaky"})),
            Some(&token),
            None,
        )
        .await,
        403,
        7,
        "permission",
    );
});

both!(grpc_apps, |s: TestServer| async move {
    let org = new_org(&s, "gRPC Apps").await;
    let p = new_project(&s, &org, "gRPC").await;
    let token: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", s.pat).parse().expect("header");
    let org_h: tonic::metadata::MetadataValue<_> = org.parse().expect("org header");
    let mut m = ManagementServiceClient::new(s.channel().await);
    macro_rules! req {
        ($msg:expr) => {{
            let mut r = tonic::Request::new($msg);
            r.metadata_mut().insert("authorization", token.clone());
            r.metadata_mut().insert("x-zitadel-orgid", org_h.clone());
            r
        }};
    }
    let add = m
        .add_oidc_app(req!(mgmt::AddOidcAppRequest {
            project_id: p.clone(),
            name: "gRPC app".into(),
            redirect_uris: vec!["https://g.example.com/cb".into()],
            grant_types: vec![
                apb::OidcGrantType::AuthorizationCode as i32,
                apb::OidcGrantType::DeviceCode as i32
            ],
            app_type: apb::OidcAppType::Native as i32,
            auth_method_type: apb::OidcAuthMethodType::None as i32,
            clock_skew: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0
            }),
            ..Default::default()
        }))
        .await
        .expect("add")
        .into_inner();
    assert!(!add.client_id.is_empty());
    assert!(add.client_secret.is_empty());
    assert!(!add.none_compliant, "{:?}", add.compliance_problems);

    let got = m
        .get_app_by_id(req!(mgmt::GetAppByIdRequest {
            project_id: p.clone(),
            app_id: add.app_id.clone(),
        }))
        .await
        .expect("get")
        .into_inner()
        .app
        .expect("app");
    assert_eq!(got.state, apb::AppState::Active as i32);
    let Some(apb::app::Config::OidcConfig(c)) = got.config else {
        panic!("not an OIDC app: {got:?}");
    };
    assert_eq!(c.client_id, add.client_id);
    assert_eq!(c.app_type, apb::OidcAppType::Native as i32);
    assert_eq!(c.grant_types, vec![0, 3]);
    assert_eq!(c.clock_skew.map(|d| d.seconds), Some(1));

    // Unknown enum numbers and out-of-range durations are refused over gRPC too.
    let e = m
        .add_oidc_app(req!(mgmt::AddOidcAppRequest {
            project_id: p.clone(),
            name: "bad".into(),
            app_type: 17,
            ..Default::default()
        }))
        .await
        .expect_err("bad app type");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("appType 17 is unknown"),
        "{}",
        e.message()
    );
    let e = m
        .add_api_app(req!(mgmt::AddApiAppRequest {
            project_id: p.clone(),
            name: "bad".into(),
            auth_method_type: 5,
        }))
        .await
        .expect_err("bad auth method");
    assert!(
        e.message().contains("authMethodType 5 is unknown"),
        "{}",
        e.message()
    );

    let api = m
        .add_api_app(req!(mgmt::AddApiAppRequest {
            project_id: p.clone(),
            name: "gRPC api".into(),
            auth_method_type: apb::ApiAuthMethodType::Basic as i32,
        }))
        .await
        .expect("add api")
        .into_inner();
    assert!(!api.client_secret.is_empty());
    let list = m
        .list_apps(req!(mgmt::ListAppsRequest {
            project_id: p.clone(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(list.details.map(|d| d.total_result), Some(2));
    let e = m
        .deactivate_app(req!(mgmt::DeactivateAppRequest {
            project_id: p.clone(),
            app_id: "nope".into(),
        }))
        .await
        .expect_err("unknown app");
    assert_eq!(e.code(), tonic::Code::NotFound);
});

both!(apps_survive_rebuild, |s: TestServer| async move {
    use base64::Engine;
    let org = new_org(&s, "Rebuild Apps").await;
    let p = new_project(&s, &org, "Rebuild").await;
    let gone = new_project(&s, &org, "Gone").await;
    let o = ok(add_oidc(&s, &org, &p, json!({"name": "o", "redirectUris": ["https://a.example.com/cb"], "clockSkew": "1s", "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})).await);
    let oid = o["appId"].as_str().expect("id").to_string();
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/apps/{oid}/keys"),
        Some(json!({"type": "KEY_TYPE_JSON"})),
    )
    .await);
    let a = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/apps/api"),
        Some(json!({"name": "api"})),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!(
            "/management/v1/projects/{p}/apps/{}/api_config/_generate_client_secret",
            a["appId"].as_str().expect("id")
        ),
        Some(json!({})),
    )
    .await);
    let xml = base64::engine::general_purpose::STANDARD.encode(sp_xml("rebuild"));
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/apps/saml"),
        Some(json!({"name": "saml", "metadataXml": xml})),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/apps/{oid}/_deactivate"),
        Some(json!({})),
    )
    .await);
    ok(add_oidc(&s, &org, &gone, json!({"name": "g"})).await);
    ok(in_org(
        &s,
        &org,
        "DELETE",
        &format!("/management/v1/projects/{gone}"),
        None,
    )
    .await);

    let before = super::admin::dump(&s.db_url).await;
    let count = |d: &Vec<(String, Vec<Vec<castellan_store::Value>>)>, t: &str| {
        d.iter().find(|(n, _)| n == t).map_or(0, |(_, r)| r.len())
    };
    assert_eq!(count(&before, "apps"), 3);
    assert_eq!(count(&before, "app_keys"), 1);
    let (db_url, dir) = (s.db_url.clone(), s.dir.clone());
    s.stop().await;
    castellan_server::rebuild_projections(&castellan_testkit::test_config(&db_url, &dir))
        .await
        .unwrap_or_else(|e| panic!("rebuild: {e}"));
    let after = super::admin::dump(&db_url).await;
    assert_eq!(before, after);
});

/// Looks a client up the way an OIDC provider will: by client id, in the instance of `project`.
async fn lookup(
    db: &castellan_store::Db,
    project: &str,
    client_id: &str,
) -> Option<castellan_api::app::apps::Client> {
    let (p, c) = (project.to_string(), client_id.to_string());
    db.read(move |conn| {
        let inst = conn
            .one(
                "SELECT instance_id FROM projects WHERE id = ?",
                &castellan_store::params![&p],
            )?
            .expect("project row")
            .text(0)?;
        castellan_api::app::apps::by_client_id(conn, &inst, &c)
    })
    .await
    .expect("lookup")
}

both!(client_lookup, |s: TestServer| async move {
    let target = castellan_store::Target::parse(&s.db_url).expect("url");
    let db = tokio::task::spawn_blocking(move || castellan_store::Db::open(target, 1))
        .await
        .expect("join")
        .expect("open db");
    let org = new_org(&s, "Lookup Org").await;
    let p = new_project(&s, &org, "Lookup").await;
    let o = ok(add_oidc(
        &s,
        &org,
        &p,
        json!({"name": "o", "redirectUris": ["https://a.example.com/cb"]}),
    )
    .await);
    let (oid, cid) = (
        o["appId"].as_str().expect("id"),
        o["clientId"].as_str().expect("cid"),
    );
    let secret = o["clientSecret"].as_str().expect("secret");

    let c = lookup(&db, &p, cid).await.expect("client");
    assert_eq!(c.app_id, oid);
    assert_eq!(c.project_id, p);
    assert_eq!(c.org_id, org);
    assert!(c.active);
    assert!(c.verify_secret(secret));
    assert!(!c.verify_secret("wrong"));
    assert_eq!(
        c.oidc.as_ref().map(|s| s.redirect_uris.clone()),
        Some(vec!["https://a.example.com/cb".to_string()])
    );

    // A regenerated secret replaces the old one; a deactivated client is not active.
    let path = format!("/management/v1/projects/{p}/apps/{oid}");
    let n = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{path}/oidc_config/_generate_client_secret"),
        Some(json!({})),
    )
    .await);
    ok(in_org(
        &s,
        &org,
        "POST",
        &format!("{path}/_deactivate"),
        Some(json!({})),
    )
    .await);
    let c = lookup(&db, &p, cid).await.expect("client");
    assert!(!c.verify_secret(secret));
    assert!(c.verify_secret(n["clientSecret"].as_str().expect("secret")));
    assert!(!c.active);

    // API clients too; unknown and removed clients are not found.
    let a = ok(in_org(
        &s,
        &org,
        "POST",
        &format!("/management/v1/projects/{p}/apps/api"),
        Some(json!({"name": "api"})),
    )
    .await);
    let c = lookup(&db, &p, a["clientId"].as_str().expect("cid"))
        .await
        .expect("api client");
    assert!(c.oidc.is_none());
    assert!(c.verify_secret(a["clientSecret"].as_str().expect("secret")));
    assert!(lookup(&db, &p, "nope").await.is_none());
    ok(in_org(&s, &org, "DELETE", &path, None).await);
    assert!(lookup(&db, &p, cid).await.is_none());
    tokio::task::spawn_blocking(move || drop(db))
        .await
        .expect("join");
});
