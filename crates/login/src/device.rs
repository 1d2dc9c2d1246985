//! The user-code page of the device authorization grant (RFC 8628, `/device`): the user types
//! the code shown on the device, signs in through the usual pages, and the provider's callback
//! approves the device authorization instead of issuing a code. Unknown codes count against the
//! client address's limit (`rate_limit`, RFC 8628 5.1).

use crate::flow::stop;
use crate::rate_limit::Keys;
use crate::{csrf, i18n, page, Login};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use castellan_oidc::auth_request::{self, AuthRequest};
use castellan_oidc::authorize::{escape, parse_params, redirect, LOGIN_PATH};
use castellan_oidc::session;
use http::{header, HeaderMap, StatusCode, Uri};

/// The spellings a typed code may be stored in: as typed (upper case, no spaces), and with or
/// without the dash in the middle.
fn spellings(typed: &str) -> Vec<String> {
    let c: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let mut out = vec![c.clone()];
    let plain: String = c.chars().filter(|x| *x != '-').collect();
    if plain != c {
        out.push(plain.clone());
    }
    if plain.len() == 8 && plain.is_ascii() {
        let dashed = format!("{}-{}", &plain[..4], &plain[4..]);
        if dashed != c {
            out.push(dashed);
        }
    }
    out
}

async fn render(
    l: &Login,
    headers: &HeaderMap,
    uri: &Uri,
    agent: &str,
    new_agent: bool,
    code: &str,
    error_key: &str,
) -> Response {
    let Some((brand, lang)) = look(l, headers, uri).await else {
        return stop(StatusCode::NOT_FOUND, "", "error.request");
    };
    let t = |k| i18n::text(lang, k);
    let body = format!(
        "<form method=\"post\" action=\"/device\">{}{}<button type=\"submit\">{}</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\">{}</button></form>",
        page::hidden(csrf::FIELD, &csrf::token(agent)),
        page::input(
            "user_code",
            t("device.code"),
            "text",
            code,
            "one-time-code",
            true
        ),
        escape(t("login.next")),
        escape(t("device.deny")),
    );
    let html = page::render(
        &brand,
        lang,
        t("device.title"),
        t("device.description"),
        if error_key.is_empty() {
            ""
        } else {
            t(error_key)
        },
        &body,
    );
    let mut r = (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response();
    if new_agent {
        if let Ok(v) = session::set_cookie(&l.st, agent).parse() {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    r
}

/// The branding and language of a device page (no authorization request yet: the instance's
/// default branding; the browser's language, else the instance's), unless the host names no
/// instance.
async fn look(l: &Login, headers: &HeaderMap, uri: &Uri) -> Option<(page::Brand, &'static str)> {
    let host = castellan_api::gate::host(&l.st, headers, uri);
    let inst = castellan_api::authn::instance_by_host(&l.st.db, &l.st.cache, &host)
        .await
        .ok()?;
    let lang = i18n::pick(&l.st, &inst, "", i18n::accept_language(headers)).await;
    Some((page::brand(&l.st, &inst, "", &host).await, lang))
}

/// The page after a refusal.
async fn denied(l: &Login, headers: &HeaderMap, uri: &Uri) -> Response {
    let Some((brand, lang)) = look(l, headers, uri).await else {
        return stop(StatusCode::NOT_FOUND, "", "error.request");
    };
    let t = |k| i18n::text(lang, k);
    let html = page::render(
        &brand,
        lang,
        t("device.denied_title"),
        t("device.denied_text"),
        "",
        "",
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response()
}

/// `GET /device[?user_code=]`: the form (prefilled from a verification_uri_complete).
pub async fn page(State(l): State<Login>, headers: HeaderMap, uri: Uri) -> Response {
    let q = parse_params(uri.query().unwrap_or(""));
    let code = q.get("user_code").cloned().unwrap_or_default();
    let (agent, new_agent) = match session::agent_of(&headers) {
        Some(a) => (a, false),
        None => (session::new_agent(), true),
    };
    render(&l, &headers, &uri, &agent, new_agent, &code, "").await
}

/// `POST /device`: a pending code starts a login for the device's client (whose end approves
/// the device), or is denied at once with the deny button.
pub async fn submit(
    State(l): State<Login>,
    extensions: http::Extensions,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let form = parse_params(std::str::from_utf8(&body).unwrap_or(""));
    let Some(agent) = session::agent_of(&headers) else {
        return stop(StatusCode::FORBIDDEN, "", "error.csrf");
    };
    if !csrf::valid(
        &agent,
        form.get(csrf::FIELD).map(String::as_str).unwrap_or(""),
    ) {
        return stop(StatusCode::FORBIDDEN, "", "error.csrf");
    }
    let host = castellan_api::gate::host(&l.st, &headers, &uri);
    let Ok(instance) = castellan_api::authn::instance_by_host(&l.st.db, &l.st.cache, &host).await
    else {
        return stop(StatusCode::NOT_FOUND, "", "error.request");
    };
    let limits = Keys::device_code(&instance, &l.client_address(&extensions, &headers));
    match limits.allow(&l.st).await {
        Ok(true) => {}
        Ok(false) => return stop(StatusCode::TOO_MANY_REQUESTS, "", "error.rate"),
        Err(_) => return stop(StatusCode::SERVICE_UNAVAILABLE, "", "error.busy"),
    }
    let typed = form.get("user_code").cloned().unwrap_or_default();
    let mut found = None;
    for c in spellings(&typed) {
        if let Ok(Some(d)) = auth_request::pending_device(&l.st, &instance, &c).await {
            found = Some(d);
            break;
        }
    }
    let Some((user_code, client_id, scope)) = found else {
        if limits.hit(&l.st).await.is_err() {
            return stop(StatusCode::SERVICE_UNAVAILABLE, "", "error.busy");
        }
        return render(&l, &headers, &uri, &agent, false, &typed, "device.unknown").await;
    };
    if form.get("action").map(String::as_str) == Some("deny") {
        return match castellan_oidc::device_authorization::deny(&l.st, &instance, &user_code).await
        {
            Ok(_) => denied(&l, &headers, &uri).await,
            Err(_) => stop(StatusCode::SERVICE_UNAVAILABLE, "", "error.busy"),
        };
    }
    let r = AuthRequest {
        client_id,
        response_type: auth_request::DEVICE.into(),
        scope,
        state: user_code,
        max_age: -1,
        ..AuthRequest::default()
    };
    match auth_request::start(&l.st, &instance, r) {
        Ok(r) => {
            let mut resp = redirect(&format!("{LOGIN_PATH}?authRequestID={}", r.handle));
            *resp.status_mut() = StatusCode::SEE_OTHER;
            resp
        }
        Err(_) => stop(StatusCode::SERVICE_UNAVAILABLE, "", "error.busy"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn code_spellings() {
        assert_eq!(
            super::spellings(" abcd efgh"),
            vec!["ABCDEFGH", "ABCD-EFGH"]
        );
        assert_eq!(super::spellings("abcd-efgh"), vec!["ABCD-EFGH", "ABCDEFGH"]);
    }
}
