//! The label policy (branding) with its preview/activate cycle, and the assets REST API
//! (`/assets/v1`): uploads as multipart forms, downloads with content type, ETag and 304,
//! content sniffing, size limits, permissions, organisation isolation and avatars.

use super::*;
use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

const ADMIN_LABEL: &str = "/admin/v1/policies/label";
const LABEL: &str = "/management/v1/policies/label";

/// CRC-32 (PNG chunks).
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A real 1×1 RGBA PNG of `rgba`.
pub(crate) fn png(rgba: [u8; 4]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    // One scanline (filter 0 + RGBA) in a stored zlib block.
    let raw = [0, rgba[0], rgba[1], rgba[2], rgba[3]];
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    let mut z = vec![0x78, 0x01, 0x01, 5, 0, 0xfa, 0xff];
    z.extend_from_slice(&raw);
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// An (empty) OpenType font file: the sfnt header of a TrueType font without tables.
fn font() -> Vec<u8> {
    vec![0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

/// Uploads `bytes` as the form field `file`.
pub(crate) async fn upload(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    org: Option<&str>,
    file_name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_string())
        .mime_str("application/octet-stream")
        .expect("mime");
    let form = reqwest::multipart::Form::new().part("file", part);
    let mut req = s.http.post(s.url(path)).multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(o) = org {
        req = req.header("x-zitadel-orgid", o);
    }
    let resp = req.send().await.expect("upload");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// GETs a path or an absolute URL: (status, headers, body).
async fn download(
    s: &TestServer,
    path_or_url: &str,
    token: Option<&str>,
    org: Option<&str>,
    etag: Option<&str>,
) -> (u16, HeaderMap, Vec<u8>) {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_string()
    } else {
        s.url(path_or_url)
    };
    let mut req = s.http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(o) = org {
        req = req.header("x-zitadel-orgid", o);
    }
    if let Some(e) = etag {
        req = req.header(IF_NONE_MATCH, e);
    }
    let resp = req.send().await.expect("download");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

fn header(h: &HeaderMap, name: reqwest::header::HeaderName) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The label policy fields users set (without details and URLs).
fn colours(p: &Value) -> Value {
    let mut p = p.clone();
    if let Some(o) = p.as_object_mut() {
        o.retain(|k, _| k.ends_with("Color") || k.ends_with("ColorDark") || k == "themeMode");
    }
    p
}

fn branding(primary: &str) -> Value {
    json!({
        "primaryColor": primary,
        "warnColor": "#cd3d56",
        "backgroundColor": "#fafafa",
        "fontColor": "#000",
        "primaryColorDark": "#2073c4",
        "backgroundColorDark": "#111827",
        "warnColorDark": "#ff3b5b",
        "fontColorDark": "#ffffff",
        "hideLoginNameSuffix": true,
        "themeMode": "THEME_MODE_DARK"
    })
}

both!(
    instance_label_policy_preview_and_activation,
    |s: TestServer| async move {
        // The built-in default, active and preview alike.
        let active = ok(s.admin("GET", ADMIN_LABEL, None).await);
        assert_eq!(active["policy"]["primaryColor"], "#5469d4", "{active}");
        assert_eq!(active["policy"]["isDefault"], true);
        assert_eq!(active["policy"]["logoUrl"], Value::Null);

        // A change lands in the preview only.
        ok(s.admin("PUT", ADMIN_LABEL, Some(branding("#123456"))).await);
        let preview = ok(s
            .admin("GET", &format!("{ADMIN_LABEL}/_preview"), None)
            .await);
        assert_eq!(preview["policy"]["primaryColor"], "#123456", "{preview}");
        assert_eq!(preview["policy"]["themeMode"], "THEME_MODE_DARK");
        assert_eq!(preview["policy"]["hideLoginNameSuffix"], true);
        let active = ok(s.admin("GET", ADMIN_LABEL, None).await);
        assert_eq!(active["policy"]["primaryColor"], "#5469d4");

        // Unchanged, invalid values and unknown theme modes are refused, naming the field.
        assert_err(
            &s.admin("PUT", ADMIN_LABEL, Some(branding("#123456"))).await,
            400,
            9,
            "not been changed",
        );
        for (field, value) in [
            ("warnColor", json!("red")),
            ("fontColorDark", json!("#12345")),
            ("primaryColor", json!("#gggggg")),
        ] {
            let mut b = branding("#654321");
            b[field] = value;
            assert_err(&s.admin("PUT", ADMIN_LABEL, Some(b)).await, 400, 3, field);
        }

        // Activation makes the preview the active policy; a user's effective policy follows.
        ok(
            s.admin("POST", &format!("{ADMIN_LABEL}/_activate"), Some(json!({})))
                .await,
        );
        let active = ok(s.admin("GET", ADMIN_LABEL, None).await);
        let preview = ok(s
            .admin("GET", &format!("{ADMIN_LABEL}/_preview"), None)
            .await);
        assert_eq!(colours(&active["policy"]), colours(&preview["policy"]));
        assert_eq!(active["policy"]["primaryColor"], "#123456");
        let mine = ok(s.admin("GET", "/auth/v1/policies/label", None).await);
        assert_eq!(mine["policy"]["primaryColor"], "#123456", "{mine}");
        assert_eq!(mine["policy"]["isDefault"], true);
        let org_view = ok(s.admin("GET", LABEL, None).await);
        assert_eq!(org_view["policy"]["primaryColor"], "#123456");
        assert_eq!(org_view["isDefault"], true);

        // Reading needs iam.policy.read.
        let (_, token) = machine(&s, None, "no-roles").await;
        assert_err(
            &s.call("GET", ADMIN_LABEL, None, Some(&token), None).await,
            403,
            7,
            "permission",
        );
    }
);

both!(
    org_label_policy_custom_default_reset,
    |s: TestServer| async move {
        let org = new_org(&s, "Branded").await;
        ok(s.admin("PUT", ADMIN_LABEL, Some(branding("#111111"))).await);
        ok(
            s.admin("POST", &format!("{ADMIN_LABEL}/_activate"), Some(json!({})))
                .await,
        );

        // Without its own policy the org sees the instance default.
        let p = ok(in_org(&s, &org, "GET", LABEL, None).await);
        assert_eq!(p["policy"]["primaryColor"], "#111111");
        assert_eq!(p["isDefault"], true);
        assert_eq!(p["policy"]["isDefault"], true);
        assert_err(
            &in_org(&s, &org, "PUT", LABEL, Some(branding("#222222"))).await,
            404,
            5,
            "label policy",
        );
        assert_err(
            &in_org(
                &s,
                &org,
                "POST",
                &format!("{LABEL}/_activate"),
                Some(json!({})),
            )
            .await,
            404,
            5,
            "label policy",
        );

        // Its own policy starts as a preview; the active one stays the default until activated.
        ok(in_org(&s, &org, "POST", LABEL, Some(branding("#222222"))).await);
        assert_err(
            &in_org(&s, &org, "POST", LABEL, Some(branding("#222222"))).await,
            409,
            6,
            "already exists",
        );
        let preview = ok(in_org(&s, &org, "GET", &format!("{LABEL}/_preview"), None).await);
        assert_eq!(preview["policy"]["primaryColor"], "#222222");
        assert_ne!(preview["isDefault"], true, "{preview}");
        assert_ne!(preview["policy"]["isDefault"], true);
        let active = ok(in_org(&s, &org, "GET", LABEL, None).await);
        assert_eq!(active["policy"]["primaryColor"], "#111111");
        ok(in_org(
            &s,
            &org,
            "POST",
            &format!("{LABEL}/_activate"),
            Some(json!({})),
        )
        .await);
        let active = ok(in_org(&s, &org, "GET", LABEL, None).await);
        assert_eq!(active["policy"]["primaryColor"], "#222222");
        assert_ne!(active["isDefault"], true, "{active}");
        assert_eq!(active["policy"]["details"]["resourceOwner"], json!(org));
        ok(in_org(&s, &org, "PUT", LABEL, Some(branding("#333333"))).await);
        let active = ok(in_org(&s, &org, "GET", LABEL, None).await);
        assert_eq!(active["policy"]["primaryColor"], "#222222");

        // The default stays the instance's; other orgs are untouched.
        let d = ok(in_org(
            &s,
            &org,
            "GET",
            "/management/v1/policies/default/label",
            None,
        )
        .await);
        assert_eq!(d["policy"]["primaryColor"], "#111111");
        let other = ok(s.admin("GET", LABEL, None).await);
        assert_eq!(other["policy"]["primaryColor"], "#111111");

        // Reset drops preview and active; the default applies again.
        ok(in_org(&s, &org, "DELETE", LABEL, None).await);
        let p = ok(in_org(&s, &org, "GET", LABEL, None).await);
        assert_eq!(p["policy"]["primaryColor"], "#111111");
        assert_eq!(p["isDefault"], true);
        let p = ok(in_org(&s, &org, "GET", &format!("{LABEL}/_preview"), None).await);
        assert_eq!(p["policy"]["primaryColor"], "#111111");
        assert_err(
            &in_org(&s, &org, "DELETE", LABEL, None).await,
            404,
            5,
            "label policy",
        );
    }
);

both!(
    instance_label_files_upload_download_activate,
    |s: TestServer| async move {
        let pat = s.pat.clone();
        let logo = png([255, 0, 0, 255]);
        let up = upload(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&pat),
            None,
            "logo.png",
            logo.clone(),
        )
        .await;
        assert_eq!(up.0, 200, "{}", up.1);
        assert!(
            up.1["details"]["resourceOwner"]
                .as_str()
                .is_some_and(|o| !o.is_empty()),
            "{}",
            up.1
        );

        // The preview holds the file; the active policy not yet.
        let preview = ok(s
            .admin("GET", &format!("{ADMIN_LABEL}/_preview"), None)
            .await);
        let url = preview["policy"]["logoUrl"]
            .as_str()
            .expect("logoUrl")
            .to_string();
        assert!(url.starts_with(&format!("{}/assets/v1/", s.base)), "{url}");
        assert!(url.contains("/policy/label/logo-"), "{url}");
        let active = ok(s.admin("GET", ADMIN_LABEL, None).await);
        assert_eq!(active["policy"]["logoUrl"], Value::Null, "{active}");

        let (st, h, body) = download(
            &s,
            "/assets/v1/instance/policy/label/logo/_preview",
            Some(&pat),
            None,
            None,
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(body, logo);
        assert_eq!(header(&h, CONTENT_TYPE), "image/png");
        let etag = header(&h, ETAG);
        assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
        let (st, _, body) = download(
            &s,
            "/assets/v1/instance/policy/label/logo/_preview",
            Some(&pat),
            None,
            Some(&etag),
        )
        .await;
        assert_eq!((st, body.len()), (304, 0));
        let (st, _, _) = download(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&pat),
            None,
            None,
        )
        .await;
        assert_eq!(st, 404);

        // Activation: the active policy's URL serves the bytes (publicly, as the login needs).
        ok(
            s.admin("POST", &format!("{ADMIN_LABEL}/_activate"), Some(json!({})))
                .await,
        );
        let active = ok(s.admin("GET", ADMIN_LABEL, None).await);
        assert_eq!(active["policy"]["logoUrl"], json!(url));
        let (st, h, body) = download(&s, &url, None, None, None).await;
        assert_eq!((st, body.clone()), (200, logo.clone()));
        assert_eq!(header(&h, CONTENT_TYPE), "image/png");
        assert!(header(&h, reqwest::header::CACHE_CONTROL).contains("max-age"));
        let (st, _, _) = download(&s, &url, None, None, Some(&etag)).await;
        assert_eq!(st, 304);
        let (st, _, body) = download(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&pat),
            None,
            None,
        )
        .await;
        assert_eq!((st, body), (200, logo.clone()));

        // Dark logo, icons and the font go to their own slots.
        let dark = png([0, 0, 0, 255]);
        assert_eq!(
            upload(
                &s,
                "/assets/v1/instance/policy/label/logo/dark",
                Some(&pat),
                None,
                "d.png",
                dark.clone()
            )
            .await
            .0,
            200
        );
        assert_eq!(
            upload(
                &s,
                "/assets/v1/instance/policy/label/icon",
                Some(&pat),
                None,
                "i.png",
                png([1, 2, 3, 4])
            )
            .await
            .0,
            200
        );
        let f = upload(
            &s,
            "/assets/v1/instance/policy/label/font",
            Some(&pat),
            None,
            "f.ttf",
            font(),
        )
        .await;
        assert_eq!(f.0, 200, "{}", f.1);
        let preview = ok(s
            .admin("GET", &format!("{ADMIN_LABEL}/_preview"), None)
            .await);
        let p = &preview["policy"];
        for k in ["logoUrl", "logoUrlDark", "iconUrl", "fontUrl"] {
            assert!(
                p[k].as_str().is_some_and(|u| u.starts_with("http")),
                "{k}: {preview}"
            );
        }
        assert_eq!(p["iconUrlDark"], Value::Null);
        let (st, h, body) = download(
            &s,
            p["fontUrl"].as_str().unwrap_or_default(),
            None,
            None,
            None,
        )
        .await;
        assert_eq!((st, body), (200, font()));
        assert_eq!(header(&h, CONTENT_TYPE), "font/ttf");
        let (_, _, body) = download(
            &s,
            "/assets/v1/instance/policy/label/logo/dark/_preview",
            Some(&pat),
            None,
            None,
        )
        .await;
        assert_eq!(body, dark);

        // Fake and oversized files, a font in an image slot, no token.
        let fake = upload(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&pat),
            None,
            "logo.png",
            b"this is not a png".to_vec(),
        )
        .await;
        assert_err(&fake, 400, 3, "detected text/plain");
        let svg_lie = upload(
            &s,
            "/assets/v1/instance/policy/label/icon",
            Some(&pat),
            None,
            "x.svg",
            b"<html><svg></svg></html>".to_vec(),
        )
        .await;
        assert_err(&svg_lie, 400, 3, "detected text/xml");
        assert_err(
            &upload(
                &s,
                "/assets/v1/instance/policy/label/logo",
                Some(&pat),
                None,
                "f.png",
                font(),
            )
            .await,
            400,
            3,
            "font/ttf",
        );
        assert_err(
            &upload(
                &s,
                "/assets/v1/instance/policy/label/font",
                Some(&pat),
                None,
                "f.ttf",
                logo.clone(),
            )
            .await,
            400,
            3,
            "image/png",
        );
        let mut big = png([9, 9, 9, 9]);
        big.resize(5 * 1024 * 1024 + 1, 0);
        assert_err(
            &upload(
                &s,
                "/assets/v1/instance/policy/label/logo",
                Some(&pat),
                None,
                "big.png",
                big,
            )
            .await,
            413,
            8,
            "too large",
        );
        assert_err(
            &upload(
                &s,
                "/assets/v1/instance/policy/label/logo",
                None,
                None,
                "logo.png",
                logo.clone(),
            )
            .await,
            401,
            16,
            "authorization",
        );
        let (st, _, _) = download(
            &s,
            "/assets/v1/instance/policy/label/logo",
            None,
            None,
            None,
        )
        .await;
        assert_eq!(st, 401);
        let (_, token) = machine(&s, None, "writer-without-roles").await;
        assert_err(
            &upload(
                &s,
                "/assets/v1/instance/policy/label/logo",
                Some(&token),
                None,
                "logo.png",
                logo.clone(),
            )
            .await,
            403,
            7,
            "permission",
        );

        // Removing a file takes it out of the preview; the active policy keeps its file until
        // the next activation, after which its bytes are gone.
        ok(s.admin("DELETE", &format!("{ADMIN_LABEL}/logo"), None)
            .await);
        assert_err(
            &s.admin("DELETE", &format!("{ADMIN_LABEL}/logo"), None)
                .await,
            404,
            5,
            "not found",
        );
        let preview = ok(s
            .admin("GET", &format!("{ADMIN_LABEL}/_preview"), None)
            .await);
        assert_eq!(preview["policy"]["logoUrl"], Value::Null);
        assert_eq!(download(&s, &url, None, None, None).await.0, 200);
        ok(
            s.admin("POST", &format!("{ADMIN_LABEL}/_activate"), Some(json!({})))
                .await,
        );
        let active = ok(s.admin("GET", ADMIN_LABEL, None).await);
        assert_eq!(active["policy"]["logoUrl"], Value::Null);
        assert!(active["policy"]["fontUrl"].as_str().is_some());
        assert_eq!(download(&s, &url, None, None, None).await.0, 404);
    }
);

both!(
    org_label_files_permissions_and_isolation,
    |s: TestServer| async move {
        let pat = s.pat.clone();
        let a = new_org(&s, "Org A").await;
        let b = new_org(&s, "Org B").await;
        let logo = png([10, 20, 30, 255]);

        // An org needs its own policy before it takes files.
        assert_err(
            &upload(
                &s,
                "/assets/v1/org/policy/label/logo",
                Some(&pat),
                Some(&a),
                "a.png",
                logo.clone(),
            )
            .await,
            404,
            5,
            "label policy",
        );
        ok(in_org(&s, &a, "POST", LABEL, Some(branding("#0a0a0a"))).await);
        let up = upload(
            &s,
            "/assets/v1/org/policy/label/logo",
            Some(&pat),
            Some(&a),
            "a.png",
            logo.clone(),
        )
        .await;
        assert_eq!(up.0, 200, "{}", up.1);
        assert_eq!(up.1["details"]["resourceOwner"], json!(a));
        let preview = ok(in_org(&s, &a, "GET", &format!("{LABEL}/_preview"), None).await);
        let url = preview["policy"]["logoUrl"]
            .as_str()
            .expect("logoUrl")
            .to_string();
        assert!(url.contains(&format!("/assets/v1/{a}/")), "{url}");
        assert_eq!(download(&s, &url, None, None, None).await.2, logo);

        // An org owner of A reads A's files but not B's; a user without roles writes nothing.
        let (owner, owner_token) = machine(&s, Some(&a), "a-owner").await;
        ok(in_org(
            &s,
            &a,
            "POST",
            "/management/v1/orgs/me/members",
            Some(json!({"userId": owner, "roles": ["ORG_OWNER"]})),
        )
        .await);
        let (st, _, body) = download(
            &s,
            "/assets/v1/org/policy/label/logo/_preview",
            Some(&owner_token),
            Some(&a),
            None,
        )
        .await;
        assert_eq!((st, body), (200, logo.clone()));
        let (st, _, _) = download(
            &s,
            "/assets/v1/org/policy/label/logo/_preview",
            Some(&owner_token),
            Some(&b),
            None,
        )
        .await;
        assert_eq!(st, 403);
        assert_err(
            &upload(
                &s,
                "/assets/v1/org/policy/label/logo",
                Some(&owner_token),
                Some(&b),
                "b.png",
                logo.clone(),
            )
            .await,
            403,
            7,
            "permission",
        );
        let (_, nobody) = machine(&s, Some(&a), "a-nobody").await;
        assert_err(
            &upload(
                &s,
                "/assets/v1/org/policy/label/logo",
                Some(&nobody),
                Some(&a),
                "a.png",
                logo.clone(),
            )
            .await,
            403,
            7,
            "permission",
        );
        // B (no own policy) sees the instance default, which has no logo; the file is not B's.
        let (st, _, _) = download(
            &s,
            "/assets/v1/org/policy/label/logo/_preview",
            Some(&pat),
            Some(&b),
            None,
        )
        .await;
        assert_eq!(st, 404);
        let b_url = url.replace(&format!("/assets/v1/{a}/"), &format!("/assets/v1/{b}/"));
        assert_eq!(download(&s, &b_url, None, None, None).await.0, 404);

        // The active org policy gets the file on activation; an org manager may remove it.
        let (st, _, _) = download(
            &s,
            "/assets/v1/org/policy/label/logo",
            Some(&pat),
            Some(&a),
            None,
        )
        .await;
        assert_eq!(st, 404);
        ok(in_org(
            &s,
            &a,
            "POST",
            &format!("{LABEL}/_activate"),
            Some(json!({})),
        )
        .await);
        let active = ok(in_org(&s, &a, "GET", LABEL, None).await);
        assert_eq!(active["policy"]["logoUrl"], json!(url));
        let (st, _, body) = download(
            &s,
            "/assets/v1/org/policy/label/logo",
            Some(&owner_token),
            Some(&a),
            None,
        )
        .await;
        assert_eq!((st, body), (200, logo.clone()));
        ok(s.call(
            "DELETE",
            &format!("{LABEL}/logo"),
            None,
            Some(&owner_token),
            Some(&a),
        )
        .await);
        let preview = ok(in_org(&s, &a, "GET", &format!("{LABEL}/_preview"), None).await);
        assert_eq!(preview["policy"]["logoUrl"], Value::Null);

        // Reset removes the org's policies and their files.
        ok(in_org(&s, &a, "DELETE", LABEL, None).await);
        assert_eq!(download(&s, &url, None, None, None).await.0, 404);
        let active = ok(in_org(&s, &a, "GET", LABEL, None).await);
        assert_eq!(active["isDefault"], true);
        assert_eq!(active["policy"]["logoUrl"], Value::Null);

        // Removing an org removes its files.
        ok(in_org(&s, &b, "POST", LABEL, Some(branding("#0b0b0b"))).await);
        ok(upload(
            &s,
            "/assets/v1/org/policy/label/icon",
            Some(&pat),
            Some(&b),
            "b.png",
            logo.clone(),
        )
        .await);
        let p = ok(in_org(&s, &b, "GET", &format!("{LABEL}/_preview"), None).await);
        let icon = p["policy"]["iconUrl"]
            .as_str()
            .expect("iconUrl")
            .to_string();
        assert_eq!(download(&s, &icon, None, None, None).await.0, 200);
        ok(in_org(&s, &b, "DELETE", "/management/v1/orgs/me", None).await);
        assert_eq!(download(&s, &icon, None, None, None).await.0, 404);
    }
);

both!(avatar_upload_download_remove, |s: TestServer| async move {
    let body = json!({
        "userName": "ava",
        "profile": {"firstName": "Ava", "lastName": "Tar"},
        "email": {"email": "ava@example.com", "isEmailVerified": true},
        "initialPassword": "Password1!"
    });
    let r = ok(s
        .admin("POST", "/management/v1/users/human", Some(body))
        .await);
    let id = r["userId"].as_str().expect("userId").to_string();
    let token = s.token_for(&id).await;
    let pic = png([1, 1, 1, 255]);

    assert_eq!(
        download(&s, "/assets/v1/users/me/avatar", Some(&token), None, None)
            .await
            .0,
        404
    );
    assert_err(
        &upload(
            &s,
            "/assets/v1/users/me/avatar",
            None,
            None,
            "me.png",
            pic.clone(),
        )
        .await,
        401,
        16,
        "authorization",
    );
    let up = upload(
        &s,
        "/assets/v1/users/me/avatar",
        Some(&token),
        None,
        "me.png",
        pic.clone(),
    )
    .await;
    assert_eq!(up.0, 200, "{}", up.1);

    // The avatar URL shows up in the user and resolves to the bytes.
    let me = ok(s
        .call("GET", "/auth/v1/users/me", None, Some(&token), None)
        .await);
    let url = me["user"]["human"]["profile"]["avatarUrl"]
        .as_str()
        .expect("avatarUrl")
        .to_string();
    assert!(
        url.starts_with(&format!("{}/assets/v1/", s.base))
            && url.contains(&format!("users/{id}/avatar")),
        "{url}"
    );
    let (st, h, body) = download(&s, &url, None, None, None).await;
    assert_eq!((st, body), (200, pic.clone()));
    assert_eq!(header(&h, CONTENT_TYPE), "image/png");
    let u = ok(s
        .admin("GET", &format!("/management/v1/users/{id}"), None)
        .await);
    assert_eq!(u["user"]["human"]["profile"]["avatarUrl"], json!(url));
    // ... and in member lists and change histories.
    ok(s.admin(
        "POST",
        "/management/v1/orgs/me/members",
        Some(json!({"userId": id, "roles": ["ORG_OWNER_VIEWER"]})),
    )
    .await);
    let members = ok(s
        .admin(
            "POST",
            "/management/v1/orgs/me/members/_search",
            Some(json!({})),
        )
        .await);
    let m = members["result"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["userId"] == json!(id)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(m["avatarUrl"], json!(url), "{members}");
    let changes = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{id}/changes/_search"),
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    let by_user = changes["result"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["editorId"] == json!(id)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(by_user["editorAvatarUrl"], json!(url), "{changes}");
    let (st, h, body) = download(&s, "/assets/v1/users/me/avatar", Some(&token), None, None).await;
    assert_eq!((st, body), (200, pic.clone()));
    assert_eq!(
        download(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            Some(&header(&h, ETAG))
        )
        .await
        .0,
        304
    );

    // A new avatar replaces the old one (whose URL stops resolving); text is refused.
    let pic2 = png([2, 2, 2, 255]);
    assert_eq!(
        upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            "me2.png",
            pic2.clone()
        )
        .await
        .0,
        200
    );
    assert_eq!(download(&s, &url, None, None, None).await.0, 404);
    assert_eq!(
        download(&s, "/assets/v1/users/me/avatar", Some(&token), None, None)
            .await
            .2,
        pic2
    );
    assert_err(
        &upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            "me.png",
            b"hello".to_vec(),
        )
        .await,
        400,
        3,
        "text/plain",
    );

    // Malformed requests get 4xx in our error shape.
    let (st, v) = s
        .call(
            "POST",
            "/assets/v1/users/me/avatar",
            Some(json!({"file": "x"})),
            Some(&token),
            None,
        )
        .await;
    assert_err(&(st, v), 400, 3, "multipart");
    let form = reqwest::multipart::Form::new().text("other", "x");
    let resp = s
        .http
        .post(s.url("/assets/v1/users/me/avatar"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().await.expect("json");
    assert_err(&(400, v), 400, 3, "no field \"file\"");
    assert_err(
        &s.call(
            "PUT",
            "/assets/v1/users/me/avatar",
            None,
            Some(&token),
            None,
        )
        .await,
        405,
        3,
        "not allowed",
    );
    assert_err(
        &s.call("GET", "/assets/v1/nothing", None, Some(&token), None)
            .await,
        404,
        5,
        "route",
    );
    assert_err(
        &s.call(
            "POST",
            "/assets/v1/instance/policy/label/logo/_preview",
            None,
            Some(&token),
            None,
        )
        .await,
        405,
        3,
        "not allowed",
    );

    // EXIF metadata (e.g. a GPS position) is removed from photos before they are stored.
    let exif = [
        0xff, 0xe1, 0, 12, b'E', b'x', b'i', b'f', 0, 0, b'G', b'P', b'S', 1,
    ];
    let scan = [0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9];
    let photo: Vec<u8> = [&[0xff, 0xd8][..], &exif, &scan].concat();
    assert_eq!(
        upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            "me.jpg",
            photo
        )
        .await
        .0,
        200
    );
    let (st, h, body) = download(&s, "/assets/v1/users/me/avatar", Some(&token), None, None).await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, CONTENT_TYPE), "image/jpeg");
    assert_eq!(body, [&[0xff, 0xd8][..], &scan].concat());

    // Machine users have no avatar.
    let (_, machine_token) = machine(&s, None, "robot").await;
    assert_err(
        &upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&machine_token),
            None,
            "r.png",
            pic.clone(),
        )
        .await,
        400,
        9,
        "not a human",
    );

    // Removal, by the user and by a manager.
    ok(s.call(
        "DELETE",
        "/auth/v1/users/me/avatar",
        None,
        Some(&token),
        None,
    )
    .await);
    let me = ok(s
        .call("GET", "/auth/v1/users/me", None, Some(&token), None)
        .await);
    assert_eq!(
        me["user"]["human"]["profile"]["avatarUrl"],
        Value::Null,
        "{me}"
    );
    assert_eq!(
        download(&s, "/assets/v1/users/me/avatar", Some(&token), None, None)
            .await
            .0,
        404
    );
    assert_err(
        &s.call(
            "DELETE",
            "/auth/v1/users/me/avatar",
            None,
            Some(&token),
            None,
        )
        .await,
        404,
        5,
        "no avatar",
    );
    assert_eq!(
        upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            "me.png",
            pic.clone()
        )
        .await
        .0,
        200
    );
    ok(
        s.admin("DELETE", &format!("/management/v1/users/{id}/avatar"), None)
            .await,
    );
    assert_eq!(
        download(&s, "/assets/v1/users/me/avatar", Some(&token), None, None)
            .await
            .0,
        404
    );
});

/// What users see of the label policies of the instance and of `org`, and of `uid`'s profile.
async fn views(s: &TestServer, org: &str, uid: &str) -> Vec<Value> {
    vec![
        ok(s.admin("GET", ADMIN_LABEL, None).await),
        ok(s.admin("GET", &format!("{ADMIN_LABEL}/_preview"), None)
            .await),
        ok(in_org(s, org, "GET", LABEL, None).await),
        ok(in_org(s, org, "GET", &format!("{LABEL}/_preview"), None).await),
        ok(s.admin("GET", &format!("/management/v1/users/{uid}"), None)
            .await)["user"]["human"]["profile"]
            .clone(),
    ]
}

both!(
    label_files_and_avatars_survive_a_rebuild,
    |s: TestServer| async move {
        let pat = s.pat.clone();
        let org = new_org(&s, "Rebuilt").await;
        let logo = png([5, 5, 5, 255]);
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"><rect width=\"1\" height=\"1\"/></svg>\n".to_vec();

        // Instance: logo active, a newer logo and an SVG icon in the preview.
        ok(upload(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&pat),
            None,
            "1.png",
            logo.clone(),
        )
        .await);
        ok(
            s.admin("POST", &format!("{ADMIN_LABEL}/_activate"), Some(json!({})))
                .await,
        );
        ok(upload(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&pat),
            None,
            "2.png",
            png([6, 6, 6, 255]),
        )
        .await);
        let icon = upload(
            &s,
            "/assets/v1/instance/policy/label/icon/dark",
            Some(&pat),
            None,
            "i.svg",
            svg.clone(),
        )
        .await;
        assert_eq!(icon.0, 200, "{}", icon.1);
        // Org: own policy with a font, then the font replaced; a user with a replaced avatar.
        ok(in_org(&s, &org, "POST", LABEL, Some(branding("#0c0c0c"))).await);
        ok(upload(
            &s,
            "/assets/v1/org/policy/label/font",
            Some(&pat),
            Some(&org),
            "a.ttf",
            font(),
        )
        .await);
        let first_font = ok(in_org(&s, &org, "GET", &format!("{LABEL}/_preview"), None).await)
            ["policy"]["fontUrl"]
            .clone();
        ok(upload(
            &s,
            "/assets/v1/org/policy/label/font",
            Some(&pat),
            Some(&org),
            "b.otf",
            b"OTTO\0\0\0\0".to_vec(),
        )
        .await);
        ok(in_org(
            &s,
            &org,
            "POST",
            &format!("{LABEL}/_activate"),
            Some(json!({})),
        )
        .await);
        let body = json!({
            "userName": "rebuilt-ava",
            "profile": {"firstName": "Re", "lastName": "Built"},
            "email": {"email": "rb@example.com", "isEmailVerified": true},
            "initialPassword": "Password1!"
        });
        let uid = ok(s
            .admin("POST", "/management/v1/users/human", Some(body))
            .await)["userId"]
            .as_str()
            .expect("userId")
            .to_string();
        let token = s.token_for(&uid).await;
        ok(upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            "a.png",
            png([7, 7, 7, 255]),
        )
        .await);
        let first_avatar = ok(s
            .admin("GET", &format!("/management/v1/users/{uid}"), None)
            .await)["user"]["human"]["profile"]["avatarUrl"]
            .clone();
        ok(upload(
            &s,
            "/assets/v1/users/me/avatar",
            Some(&token),
            None,
            "b.png",
            logo.clone(),
        )
        .await);

        let before = views(&s, &org, &uid).await;
        let urls: Vec<String> = before
            .iter()
            .flat_map(|v| {
                let p = if v["policy"].is_null() {
                    v.clone()
                } else {
                    v["policy"].clone()
                };
                [
                    "logoUrl",
                    "logoUrlDark",
                    "iconUrl",
                    "iconUrlDark",
                    "fontUrl",
                    "avatarUrl",
                ]
                .iter()
                .filter_map(|k| p[*k].as_str().map(str::to_string))
                .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(urls.len(), 6, "{urls:?}");
        let mut files = Vec::new();
        for u in &urls {
            let (st, h, body) = download(&s, u, None, None, None).await;
            assert_eq!(st, 200, "{u}");
            files.push((header(&h, CONTENT_TYPE), body));
        }
        assert!(files
            .iter()
            .any(|(ct, b)| ct == "image/svg+xml" && *b == svg));
        assert!(files.iter().any(|(ct, _)| ct == "font/otf"));
        for released in [&first_font, &first_avatar] {
            let u = released.as_str().expect("url");
            assert_eq!(download(&s, u, None, None, None).await.0, 404, "{u}");
        }

        // Rebuild the read models; the policies, users and files are as before.
        let (db_url, dir, backend) = (s.db_url.clone(), s.dir.clone(), s.backend);
        s.stop().await;
        let cfg = castellan_testkit::test_config(&db_url, &dir);
        castellan_server::rebuild_projections(&cfg)
            .await
            .unwrap_or_else(|e| panic!("rebuild: {e}"));
        let s = TestServer::launch(backend, cfg, dir, false).await;
        let after = views(&s, &org, &uid).await;
        let port_fix = |v: Vec<Value>, from: &str, to: &str| -> Vec<Value> {
            v.into_iter()
                .map(|x| serde_json::from_str(&x.to_string().replace(from, to)).expect("json"))
                .collect()
        };
        let after = port_fix(after, &s.base, "BASE");
        let before_base = urls[0]
            .split("/assets/v1/")
            .next()
            .unwrap_or_default()
            .to_string();
        let before = port_fix(before, &before_base, "BASE");
        assert_eq!(before, after);
        for (u, (ct, body)) in urls.iter().zip(files) {
            let u = u.replace(&before_base, &s.base);
            let (st, h, got) = download(&s, &u, None, None, None).await;
            assert_eq!((st, header(&h, CONTENT_TYPE), got), (200, ct, body), "{u}");
        }
    }
);

/// Rows of the `assets` table of `instance`, read straight from the database.
async fn stored_files(db_url: &str, instance: &str) -> i64 {
    let target = castellan_store::Target::parse(db_url).expect("url");
    let db = tokio::task::spawn_blocking(move || castellan_store::Db::open(target, 1))
        .await
        .expect("join")
        .expect("open db");
    let inst = instance.to_string();
    let n = db
        .read(move |c| {
            c.scalar(
                "SELECT COUNT(*) FROM assets WHERE instance_id = ?",
                &castellan_store::params![&inst],
            )
        })
        .await
        .expect("count");
    tokio::task::spawn_blocking(move || drop(db))
        .await
        .expect("join");
    n
}

both_backends!(
    removing_an_instance_removes_its_files,
    |backend: Backend| async move {
        use castellan_testkit::system::SystemUser;
        let owner = SystemUser::new("sys");
        let Some(s) = TestServer::start_with(backend, |c| owner.configure(c, &[])).await else {
            return;
        };
        let sys = owner.token(&s.origin());
        let doomed = owner.create_instance(&s, "Doomed").await;
        let (id, pat, host) = (doomed.id, doomed.pat, doomed.host);

        // A logo in each instance.
        let main_pat = s.pat.clone();
        ok(upload(
            &s,
            "/assets/v1/instance/policy/label/logo",
            Some(&main_pat),
            None,
            "m.png",
            png([1, 0, 0, 255]),
        )
        .await);
        let part = reqwest::multipart::Part::bytes(png([0, 1, 0, 255])).file_name("d.png");
        let resp = s
            .http
            .post(s.url("/assets/v1/instance/policy/label/logo"))
            .header("x-zitadel-instance-host", &host)
            .bearer_auth(&pat)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("upload");
        assert_eq!(resp.status().as_u16(), 200);
        let p = ok(s
            .call_host(
                &host,
                "GET",
                "/admin/v1/policies/label/_preview",
                None,
                Some(&pat),
                None,
            )
            .await);
        let url = p["policy"]["logoUrl"]
            .as_str()
            .expect("logoUrl")
            .to_string();
        assert!(url.starts_with(&format!("http://{host}")), "{url}");
        let main = ok(s.admin("GET", "/admin/v1/instances/me", None).await)["instance"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        assert_eq!(stored_files(&s.db_url, &id).await, 1);
        assert_eq!(stored_files(&s.db_url, &main).await, 1);

        ok(s.call(
            "DELETE",
            &format!("/system/v1/instances/{id}"),
            None,
            Some(&sys),
            None,
        )
        .await);
        assert_eq!(stored_files(&s.db_url, &id).await, 0);
        assert_eq!(stored_files(&s.db_url, &main).await, 1);
    }
);
