//! One handler, three transports: REST, gRPC and gRPC-Web reach the same RPCs; errors, routes,
//! bodies and OpenAPI as clients see them.

use super::*;
use castellan_proto::zitadel::auth::v1::auth_service_client::AuthServiceClient;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;
use prost::Message;

both!(rest_get_my_user, |s: TestServer| async move {
    let me = ok(s.admin("GET", "/auth/v1/users/me", None).await);
    assert_eq!(me["user"]["userName"], "admin-sa");
    assert_eq!(me["user"]["state"], "USER_STATE_ACTIVE");
    assert_eq!(me["user"]["machine"]["name"], "Automation");
    // 64-bit integers are strings, timestamps RFC 3339 with Z.
    assert!(me["user"]["details"]["sequence"].is_string());
    assert!(me["user"]["details"]["creationDate"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
});

both!(
    grpc_and_rest_reach_the_same_handler,
    |s: TestServer| async move {
        let ch = s.channel().await;
        let token: tonic::metadata::MetadataValue<_> =
            format!("Bearer {}", s.pat).parse().expect("header");
        let mut auth = AuthServiceClient::new(ch.clone());
        let mut req = tonic::Request::new(castellan_proto::zitadel::auth::v1::GetMyUserRequest {});
        req.metadata_mut().insert("authorization", token.clone());
        let me = auth.get_my_user(req).await.expect("GetMyUser").into_inner();
        let rest = ok(s.admin("GET", "/auth/v1/users/me", None).await);
        assert_eq!(
            me.user.as_ref().map(|u| u.id.clone()),
            rest["user"]["id"].as_str().map(str::to_string)
        );

        // A user added over gRPC is listed over REST at once (read-your-writes).
        let mut m = ManagementServiceClient::new(ch);
        let mut add = tonic::Request::new(mgmt::AddMachineUserRequest {
            user_name: "grpc-bot".into(),
            name: "Bot".into(),
            ..Default::default()
        });
        add.metadata_mut().insert("authorization", token.clone());
        let id = m
            .add_machine_user(add)
            .await
            .expect("AddMachineUser")
            .into_inner()
            .user_id;
        let list = ok(s.admin("POST", "/management/v1/users/_search", Some(json!({"queries":[{"userNameQuery":{"userName":"grpc-bot","method":"TEXT_QUERY_METHOD_EQUALS"}}]}))).await);
        assert_eq!(list["result"][0]["id"], id.as_str());

        // gRPC errors carry the code and a zitadel.v1.ErrorDetail.
        let mut get = tonic::Request::new(mgmt::GetUserByIdRequest {
            id: "404404".into(),
        });
        get.metadata_mut().insert("authorization", token);
        let err = m.get_user_by_id(get).await.expect_err("not found");
        assert_eq!(err.code(), tonic::Code::NotFound);
        assert!(
            err.message().ends_with("(QUERY-Dfbg2)"),
            "{}",
            err.message()
        );
        let st = castellan_api::error::RpcStatus::decode(err.details()).expect("status details");
        let d = castellan_proto::zitadel::v1::ErrorDetail::decode(st.details[0].value.as_slice())
            .expect("detail");
        assert_eq!(d.id, "QUERY-Dfbg2");

        // Without a token: UNAUTHENTICATED.
        let e = auth
            .get_my_user(castellan_proto::zitadel::auth::v1::GetMyUserRequest {})
            .await
            .expect_err("no token");
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
    }
);

both!(grpc_web_works, |s: TestServer| async move {
    let msg = castellan_proto::zitadel::auth::v1::GetMyUserRequest {}.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    framed.extend_from_slice(&msg);
    let resp = s
        .http
        .post(s.url("/zitadel.auth.v1.AuthService/GetMyUser"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("authorization", format!("Bearer {}", s.pat))
        .body(framed)
        .send()
        .await
        .expect("grpc-web");
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("body");
    assert_eq!(body[0], 0, "first frame is data");
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let me = castellan_proto::zitadel::auth::v1::GetMyUserResponse::decode(&body[5..5 + len])
        .expect("decode");
    assert_eq!(me.user.expect("user").user_name, "admin-sa");
    let trailer = String::from_utf8_lossy(&body[5 + len..]);
    assert!(trailer.contains("grpc-status:0"), "{trailer}");
});

both!(rest_errors_name_the_problem, |s: TestServer| async move {
    // No token, bad token.
    assert_err(
        &s.call("GET", "/auth/v1/users/me", None, None, None).await,
        401,
        16,
        "authorization header is missing",
    );
    assert_err(
        &s.call("GET", "/auth/v1/users/me", None, Some("nope"), None)
            .await,
        401,
        16,
        "token is invalid",
    );
    let mut req = s
        .http
        .get(s.url("/auth/v1/users/me"))
        .header("authorization", "Basic abc");
    req = req.header("x-request-id", "test-rid-1");
    let r = req.send().await.expect("send");
    assert_eq!(r.status(), 401);
    // Unknown route, wrong verb.
    assert_err(
        &s.admin("GET", "/management/v1/nothing/here", None).await,
        404,
        5,
        "no api route",
    );
    let wrong = s.admin("PATCH", "/management/v1/users/123", None).await;
    assert_eq!(wrong.0, 405, "{}", wrong.1);
    // Malformed JSON, wrong types, unknown enum names.
    let bad = s
        .http
        .post(s.url("/management/v1/users/machine"))
        .header("authorization", format!("Bearer {}", s.pat))
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["code"], 3);
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": 5})),
        )
        .await,
        400,
        3,
        "request body",
    );
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": "x", "name": "x", "accessTokenType": "NOPE"})),
        )
        .await,
        400,
        3,
        "request body",
    );
    // Missing required fields, over-long strings.
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"name": "x"})),
        )
        .await,
        400,
        3,
        "userName must not be empty",
    );
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/orgs",
            Some(json!({"name": "x".repeat(201)})),
        )
        .await,
        400,
        3,
        "name must be at most 200",
    );
    // Body over 1 MiB.
    let big = json!({"name": "x".repeat(1_100_000)});
    let r = s.admin("POST", "/management/v1/orgs", Some(big)).await;
    assert_eq!(r.0, 413, "{}", r.1);
    assert_eq!(r.1["code"], 8);
    // Unknown fields are ignored; snake_case accepted.
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"user_name": "snake", "name": "Snake", "unknownField": true})),
        )
        .await);
    assert!(r["userId"].is_string());
    // Limit above the maximum.
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/_search",
            Some(json!({"query": {"limit": 1001}})),
        )
        .await,
        400,
        3,
        "at most 1000",
    );
});

both!(openapi_and_debug_endpoints, |s: TestServer| async move {
    for svc in ["auth", "management", "admin", "system"] {
        let (st, doc) = s
            .call(
                "GET",
                &format!("/openapi/v2/swagger/{svc}.swagger.json"),
                None,
                None,
                None,
            )
            .await;
        assert_eq!(st, 200, "{svc}");
        assert_eq!(doc["swagger"], "2.0");
        assert_eq!(doc["basePath"], format!("/{svc}/v1"));
    }
    let (_, mgmt) = s
        .call(
            "GET",
            "/openapi/v2/swagger/management.swagger.json",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(
        mgmt["paths"]["/users/_search"]["post"]["x-permission"],
        "user.read"
    );
    let (st, _) = s
        .call(
            "GET",
            "/openapi/v2/swagger/nope.swagger.json",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(
        s.call("GET", "/debug/healthz", None, None, None).await.0,
        200
    );
    assert_eq!(s.call("GET", "/debug/ready", None, None, None).await.0, 200);
    ok(s.admin("GET", "/auth/v1/users/me", None).await);
    let (st, m) = s.call("GET", "/debug/metrics", None, None, None).await;
    assert_eq!(st, 200);
    let text = m.as_str().unwrap_or_default();
    assert!(text.contains("castellan_requests_total{method=\"/zitadel.auth.v1.AuthService/GetMyUser\",code=\"0\"}"), "{text}");
    assert!(text.contains("castellan_db_max_readers"));
    // Password hashing shows in the metrics: a user imported with a password is one more hash,
    // and none is left queued afterwards.
    let gauge = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    let before = gauge(text, "castellan_password_hashes_total");
    ok(s.admin(
        "POST",
        "/management/v1/users/human/_import",
        Some(
            json!({"userName": "hashed", "profile": {"firstName": "H", "lastName": "S"},
            "email": {"email": "hashed@example.com"}, "password": "Secret-Pw-123!"}),
        ),
    )
    .await);
    let (_, m) = s.call("GET", "/debug/metrics", None, None, None).await;
    let text = m.as_str().unwrap_or_default();
    assert_eq!(
        gauge(text, "castellan_password_hashes_total"),
        before + 1,
        "{text}"
    );
    assert_eq!(
        gauge(text, "castellan_password_hashes_pending"),
        0,
        "{text}"
    );
});

both!(
    unknown_host_is_a_clear_not_found,
    |s: TestServer| async move {
        let r = s
            .http
            .get(s.url("/auth/v1/users/me"))
            .header("host", "nowhere.example.com")
            .header("authorization", format!("Bearer {}", s.pat))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 404);
        let b: Value = r.json().await.expect("json");
        assert!(
            b["message"]
                .as_str()
                .unwrap_or_default()
                .contains("nowhere.example.com"),
            "{b}"
        );
    }
);

// gRPC server reflection lists the four services (grpcurl and friends rely on it).
both!(
    grpc_reflection_lists_the_services,
    |s: TestServer| async move {
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let mut client = ServerReflectionClient::new(s.channel().await);
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = client
            .server_reflection_info(futures_util::stream::iter(vec![req]))
            .await
            .expect("reflection")
            .into_inner();
        let resp = stream
            .message()
            .await
            .expect("message")
            .expect("a response");
        let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
            panic!("unexpected reflection answer")
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for svc in [
            "zitadel.auth.v1.AuthService",
            "zitadel.management.v1.ManagementService",
            "zitadel.admin.v1.AdminService",
            "zitadel.system.v1.SystemService",
        ] {
            assert!(
                names.iter().any(|n| n == svc),
                "{svc} missing from {names:?}"
            );
        }
    }
);

// A browser application on another origin may call the APIs and the OAuth endpoints (as
// ZITADEL allows), but cannot read the pages that carry the session cookie.
both!(
    cross_origin_callers_reach_the_apis_but_not_the_pages,
    |s: TestServer| async move {
        const SPA: &str = "https://spa.example.com";
        let preflight = |path: &'static str, headers: &'static str| {
            s.http
                .request(reqwest::Method::OPTIONS, s.url(path))
                .header("origin", SPA)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", headers)
                .send()
        };
        let h = |r: &reqwest::Response, name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        for (path, headers) in [
            ("/oauth/v2/token", "authorization,content-type"),
            ("/oidc/v1/userinfo", "authorization"),
            (
                "/management/v1/projects/_search",
                "authorization,content-type,x-zitadel-orgid",
            ),
            (
                "/zitadel.auth.v1.AuthService/GetMyUser",
                "content-type,x-grpc-web,authorization",
            ),
        ] {
            let r = preflight(path, headers).await.expect("preflight");
            assert_eq!(r.status(), 204, "{path}");
            assert_eq!(h(&r, "access-control-allow-origin"), SPA, "{path}");
            assert_eq!(h(&r, "access-control-allow-credentials"), "true");
            assert!(h(&r, "access-control-allow-methods").contains("POST"));
            let allowed = h(&r, "access-control-allow-headers");
            for wanted in headers.split(',') {
                assert!(
                    allowed.contains(wanted),
                    "{path}: {wanted} not in {allowed}"
                );
            }
        }
        let from_spa = |path: &'static str| s.http.get(s.url(path)).header("origin", SPA).send();
        // Answers, errors included, are readable by the caller's origin.
        let r = from_spa("/.well-known/openid-configuration")
            .await
            .expect("discovery");
        assert_eq!(r.status(), 200);
        assert_eq!(h(&r, "access-control-allow-origin"), SPA);
        assert!(h(&r, "vary").contains("origin"), "{:?}", r.headers());
        let r = from_spa("/auth/v1/users/me").await.expect("me");
        assert_eq!(r.status(), 401);
        assert_eq!(h(&r, "access-control-allow-origin"), SPA);
        assert!(h(&r, "access-control-expose-headers").contains("grpc-status"));
        // Same-origin and non-browser callers see no CORS headers.
        let r = s
            .http
            .get(s.url("/auth/v1/users/me"))
            .send()
            .await
            .expect("me");
        assert!(r.headers().get("access-control-allow-origin").is_none());
        // Every answer forbids content sniffing; HSTS only comes over https (the TLS test).
        assert_eq!(h(&r, "x-content-type-options"), "nosniff");
        assert!(r.headers().get("strict-transport-security").is_none());
        // The pages stay closed to other origins.
        for path in [
            "/ui/login/login",
            "/oauth/v2/authorize?client_id=x",
            "/device",
        ] {
            let r = from_spa(path).await.expect("page");
            assert!(
                r.headers().get("access-control-allow-origin").is_none(),
                "{path}"
            );
        }
        let r = preflight("/ui/login/loginname", "content-type")
            .await
            .expect("preflight");
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert_ne!(r.status(), 204);
    }
);
