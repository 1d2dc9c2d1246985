//! One step of a login: the instance, the browser (cookie, CSRF), the authorization request
//! being served, the organisation in context and the page language.

use crate::page::{self, Brand};
use crate::{csrf, i18n, Login};
use axum::response::{Html, IntoResponse, Response};
use castellan_api::state::St;
use castellan_oidc::auth_request::{self, AuthRequest};
use castellan_oidc::authorize::{parse_params, redirect, CALLBACK_PATH};
use castellan_oidc::session;
use http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use std::collections::HashMap;

/// The context of a login page or form.
pub struct Flow {
    pub st: St,
    pub instance: String,
    pub host: String,
    pub agent: String,
    /// The cookie must be set on the answer (a browser seen for the first time).
    pub new_agent: bool,
    pub req: AuthRequest,
    /// The organisation the request is restricted to, else the instance's default one.
    pub org: String,
    pub lang: &'static str,
    pub form: HashMap<String, String>,
}

/// A page that ends the flow (no request, bad form, unknown instance).
pub fn stop(status: StatusCode, lang: &str, key: &str) -> Response {
    let body = page::render(
        &Brand::default(),
        lang,
        i18n::text(lang, "error.title"),
        "",
        i18n::text(lang, key),
        "",
    );
    with_headers((status, Html(body)).into_response())
}

fn with_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Framing (`frame-ancestors`, `X-Frame-Options`) is the `frame` layer's.
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("script-src 'none'"),
    );
    r
}

impl Flow {
    /// A page (GET): the request named by `authRequestID` in the query; makes a browser id when
    /// the browser has none.
    pub async fn for_page(l: &Login, headers: &HeaderMap, uri: &Uri) -> Result<Flow, Response> {
        let q = parse_params(uri.query().unwrap_or(""));
        let (agent, new_agent) = match session::agent_of(headers) {
            Some(a) => (a, false),
            None => (session::new_agent(), true),
        };
        Self::build(l, headers, uri, q, agent, new_agent).await
    }

    /// A form (POST): the browser must have its cookie and the form its CSRF token.
    pub async fn for_form(
        l: &Login,
        headers: &HeaderMap,
        uri: &Uri,
        body: &[u8],
    ) -> Result<Flow, Response> {
        let form = parse_params(std::str::from_utf8(body).unwrap_or(""));
        let Some(agent) = session::agent_of(headers) else {
            return Err(stop(StatusCode::FORBIDDEN, "en", "error.csrf"));
        };
        let sent = form.get(csrf::FIELD).map(String::as_str).unwrap_or("");
        if !csrf::valid(&agent, sent) {
            return Err(stop(StatusCode::FORBIDDEN, "en", "error.csrf"));
        }
        Self::build(l, headers, uri, form, agent, false).await
    }

    async fn build(
        l: &Login,
        headers: &HeaderMap,
        uri: &Uri,
        form: HashMap<String, String>,
        agent: String,
        new_agent: bool,
    ) -> Result<Flow, Response> {
        let st = l.st.clone();
        let host = castellan_api::gate::host(&st, headers, uri);
        let Ok(instance) = castellan_api::authn::instance_by_host(&st.db, &st.cache, &host).await
        else {
            return Err(stop(StatusCode::NOT_FOUND, "en", "error.request"));
        };
        let id = form.get("authRequestID").cloned().unwrap_or_default();
        let req = match auth_request::load(&st, &instance, &id).await {
            Ok(Some(r)) if !r.has_code => r,
            _ => return Err(stop(StatusCode::BAD_REQUEST, "en", "error.request")),
        };
        let lang = i18n::lang(&req.ui_locales);
        let org = crate::users::org_of_request(&st, &instance, &req).await;
        Ok(Flow {
            st,
            instance,
            host,
            agent,
            new_agent,
            req,
            org,
            lang,
            form,
        })
    }

    /// A form field, trimmed.
    pub fn field(&self, name: &str) -> String {
        self.form
            .get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }

    /// A form field as sent (passwords).
    pub fn raw(&self, name: &str) -> String {
        self.form.get(name).cloned().unwrap_or_default()
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::text(self.lang, key)
    }

    /// The hidden fields every form of this flow carries.
    pub fn hidden(&self) -> String {
        format!(
            "{}{}",
            page::hidden("authRequestID", &self.req.id),
            page::hidden(csrf::FIELD, &csrf::token(&self.agent))
        )
    }

    /// A branded page.
    pub async fn page(
        &self,
        status: StatusCode,
        title: &str,
        description: &str,
        error: &str,
        body: &str,
    ) -> Response {
        let brand = page::brand(&self.st, &self.instance, &self.org, &self.host).await;
        let html = page::render(
            &brand,
            self.lang,
            self.t(title),
            self.t(description),
            error,
            body,
        );
        self.finish((status, Html(html)).into_response())
    }

    /// Adds the cookie (when new) and the page headers.
    pub fn finish(&self, r: Response) -> Response {
        let mut r = with_headers(r);
        if self.new_agent {
            if let Ok(v) = session::set_cookie(&self.st, &self.agent).parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
        }
        r
    }

    /// An error page within the flow.
    pub fn stop(&self, status: StatusCode, key: &str) -> Response {
        self.finish(stop(status, self.lang, key))
    }

    /// Records the login of `user_id` on this browser (password checked now) and sends the
    /// browser to the provider's callback.
    pub async fn signed_in(&self, user_id: &str) -> Response {
        let (inst, agent, uid, new_id, req) = (
            self.instance.clone(),
            self.agent.clone(),
            user_id.to_string(),
            self.st.ids.next(),
            self.req.id.clone(),
        );
        // The session and the finished request in one commit.
        let done = self
            .st
            .db
            .write(&session::agent_key(&self.agent), move |c| {
                let sid = session::password_checked(c, &inst, &agent, &uid, &new_id)?;
                let now = castellan_domain::id::now_micros();
                auth_request::complete_in(c, &inst, &req, &uid, &sid, now, "pwd")
            })
            .await;
        if done.is_err() {
            return self.stop(StatusCode::SERVICE_UNAVAILABLE, "error.busy");
        }
        let mut r = redirect(&format!("{CALLBACK_PATH}?id={}", self.req.id));
        *r.status_mut() = StatusCode::SEE_OTHER;
        self.finish(r)
    }
}
