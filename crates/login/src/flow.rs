//! One step of a login: the instance, the browser (cookie, CSRF), the authorization request
//! being served, the organisation in context and the page language.

use crate::page::{self, Brand};
use crate::{csrf, i18n, Login};
use axum::response::{Html, IntoResponse, Response};
use castellan_api::state::St;
use castellan_domain::Kind;
use castellan_oidc::auth_request::{self, AuthRequest};
use castellan_oidc::authorize::{parse_params, redirect, response_mode, CALLBACK_PATH};
use castellan_oidc::authorize_callback;
use castellan_oidc::authorize_response::PlainPage;
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

/// A page that ends the flow (no request, bad form, unknown instance) with the text `key`, in
/// the default branding until the `rebrand` layer draws it in the instance's. `lang` '' (not
/// chosen yet): English, and the layer picks the language as for any page.
pub fn stop(status: StatusCode, lang: &str, key: &str) -> Response {
    let shown = if lang.is_empty() { "en" } else { lang };
    let (title, error) = (i18n::text(shown, "error.title"), i18n::text(shown, key));
    let body = page::render(&Brand::default(), shown, title, "", error, "");
    let mut r = with_headers((status, Html(body)).into_response());
    r.extensions_mut().insert(PlainPage {
        lang: shown.into(),
        title: title.into(),
        error: error.into(),
        lang_chosen: !lang.is_empty(),
        key: key.into(),
        ..PlainPage::default()
    });
    r
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
            return Err(stop(StatusCode::FORBIDDEN, "", "error.csrf"));
        };
        let sent = form.get(csrf::FIELD).map(String::as_str).unwrap_or("");
        if !csrf::valid(&agent, sent) {
            return Err(stop(StatusCode::FORBIDDEN, "", "error.csrf"));
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
            return Err(stop(StatusCode::NOT_FOUND, "", "error.request"));
        };
        let id = form.get("authRequestID").cloned().unwrap_or_default();
        let Some(req) = auth_request::open(&st, &instance, &id) else {
            return Err(stop(StatusCode::BAD_REQUEST, "", "error.request"));
        };
        let lang = i18n::pick(
            &st,
            &instance,
            &req.ui_locales,
            i18n::accept_language(headers),
        )
        .await;
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
            page::hidden("authRequestID", &self.req.handle),
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

    /// Records the login of `user_id` on this browser (password checked now) and answers with
    /// [`Flow::signed_in_answer`].
    pub async fn signed_in(&self, user_id: &str) -> Response {
        let (mut writes, code) = self.sign_in_writes(user_id);
        // Keyed by the user, as the password check that carries the same writes: one writer
        // queue sees every sign-in of this user.
        match self.st.db.write(user_id, move |c| writes(c)).await {
            Ok(()) => self.signed_in_answer(code.as_deref()),
            Err(e) => self.sign_in_failed(&e),
        }
    }

    /// What finishing a login of `user_id` on this browser writes, for one commit (the
    /// caller's, which may also record the password check): the session (password checked
    /// now), the finished request and, when the browser goes straight back to the client, the
    /// hash of its code. Returns the writes and that code.
    pub fn sign_in_writes(&self, user_id: &str) -> (SignInWrites, Option<String>) {
        let (inst, agent, uid, new_id, req) = (
            self.instance.clone(),
            self.agent.clone(),
            user_id.to_string(),
            self.st.ids.next(),
            self.req.clone(),
        );
        // A code in a redirect (query or fragment) goes out with this answer; form_post,
        // device approval and implicit tokens are the callback's.
        let direct =
            authorize_callback::issues_code(&self.req) && response_mode(&self.req) != "form_post";
        let code = direct.then(castellan_api::app::tokens::random_token);
        let code_hash = code.as_deref().map(castellan_api::authn::hash_secret);
        let writes = move |c: &mut dyn castellan_store::Conn| {
            let sid = session::password_checked(c, &inst, &agent, &uid, &new_id)?;
            let f = auth_request::Finished {
                user_id: &uid,
                session_id: &sid,
                auth_time: castellan_domain::id::now_micros(),
                amr: "pwd",
                code_hash: code_hash.as_deref(),
            };
            match auth_request::finish_in(c, &req, &f)? {
                true => Ok(()),
                false => Err(castellan_domain::Error::new(
                    Kind::FailedPrecondition,
                    USED_UP,
                    "Errors.AuthRequest.Used",
                )
                .with("the request was used already")),
            }
        };
        (Box::new(writes), code)
    }

    /// The answer once the writes of [`Flow::sign_in_writes`] are durable: the client's
    /// redirect with `code`, else the provider's callback.
    pub fn signed_in_answer(&self, code: Option<&str>) -> Response {
        let mut r = match code {
            Some(code) => authorize_callback::code_response(&self.st, &self.host, &self.req, code),
            None => redirect(&format!("{CALLBACK_PATH}?id={}", self.req.id)),
        };
        // The answer to a form post: the browser follows with a GET.
        *r.status_mut() = StatusCode::SEE_OTHER;
        self.finish(r)
    }

    /// What a form's page says about `e`, an error of the command it ran: in English as the
    /// API words it; in another language the texts of the messages a form can meet (password
    /// complexity, a taken user name, an invalid email), else the API's words.
    pub fn error_text(&self, e: &castellan_domain::Error) -> String {
        let key = match e.key {
            _ if self.lang == "en" => return e.text(),
            "Errors.PasswordComplexityPolicy.MinLength" => "complexity.min_length",
            "Errors.PasswordComplexityPolicy.HasLower" => "complexity.lower",
            "Errors.PasswordComplexityPolicy.HasUpper" => "complexity.upper",
            "Errors.PasswordComplexityPolicy.HasNumber" => "complexity.number",
            "Errors.PasswordComplexityPolicy.HasSymbol" => "complexity.symbol",
            "Errors.User.AlreadyExists" => "register.exists",
            "Errors.User.Email.Invalid" => "register.email_invalid",
            _ => return e.text(),
        };
        // The minimum length is the one number in the complexity error's detail.
        let n: String = e
            .detail
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        self.t(key).replace("{n}", &n)
    }

    /// The page for a sign-in step that failed: a value no store can hold (400), a request
    /// answered already (400), else busy (503).
    pub fn sign_in_failed(&self, e: &castellan_domain::Error) -> Response {
        if e.id == USED_UP {
            return self.stop(StatusCode::BAD_REQUEST, "error.request");
        }
        if e.kind == Kind::InvalidArgument {
            return self.stop(StatusCode::BAD_REQUEST, "error.input");
        }
        tracing::error!(error = %e.text(), "login: finish");
        self.stop(StatusCode::SERVICE_UNAVAILABLE, "error.busy")
    }
}

/// The writes of a finished login (`Flow::sign_in_writes`).
pub type SignInWrites =
    Box<dyn FnMut(&mut dyn castellan_store::Conn) -> castellan_domain::Result<()> + Send>;

/// Error id of a request that was answered already.
const USED_UP: &str = "LOGIN-us3dU";
