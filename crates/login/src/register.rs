//! Self-registration (when the login policy of the organisation allows it): a human user in the
//! request's organisation, password checked against the complexity policy, then signed in.

use crate::flow::Flow;
use crate::page;
use crate::users;
use crate::Login;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use castellan_api::app::users::NewHuman;
use castellan_api::ctx::Ctx;
use castellan_domain::events::Profile;
use castellan_domain::policy::Login as LoginPolicy;
use castellan_oidc::authorize::escape;
use http::{HeaderMap, StatusCode, Uri};

/// Form field names (ZITADEL's login).
pub const FIRSTNAME: &str = "firstname";
pub const LASTNAME: &str = "lastname";
pub const EMAIL: &str = "email";
pub const USERNAME: &str = "username";
pub const PASSWORD: &str = "register-password";
pub const PASSWORD_CONFIRM: &str = "register-password-confirmation";

pub async fn page(State(l): State<Login>, headers: HeaderMap, uri: Uri) -> Response {
    let f = match Flow::for_page(&l, &headers, &uri).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    render(&f, "").await
}

async fn allowed(f: &Flow) -> bool {
    users::policy::<LoginPolicy>(&f.st, &f.instance, &f.org)
        .await
        .allow_register
}

async fn render(f: &Flow, error: &str) -> Response {
    if !allowed(f).await {
        return f
            .page(
                StatusCode::FORBIDDEN,
                "register.title",
                "",
                f.t("register.not_allowed"),
                "",
            )
            .await;
    }
    let body = format!(
        "<form method=\"post\" action=\"/ui/login/register\">{}{}{}{}{}{}{}<button type=\"submit\">{}</button></form>",
        f.hidden(),
        page::input(FIRSTNAME, f.t("register.firstname"), "text", &f.field(FIRSTNAME), "given-name", true),
        page::input(LASTNAME, f.t("register.lastname"), "text", &f.field(LASTNAME), "family-name", false),
        page::input(EMAIL, f.t("register.email"), "email", &f.field(EMAIL), "email", false),
        page::input(USERNAME, f.t("register.username"), "text", &f.field(USERNAME), "username", false),
        page::input(PASSWORD, f.t("register.password"), "password", "", "new-password", false),
        page::input(PASSWORD_CONFIRM, f.t("register.password_confirm"), "password", "", "new-password", false),
        escape(f.t("register.submit")),
    );
    f.page(
        StatusCode::OK,
        "register.title",
        "register.description",
        error,
        &body,
    )
    .await
}

pub async fn submit(State(l): State<Login>, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    let f = match Flow::for_form(&l, &headers, &uri, &body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if !allowed(&f).await {
        return render(&f, "").await;
    }
    let (pw, confirm) = (f.raw(PASSWORD), f.raw(PASSWORD_CONFIRM));
    if pw != confirm {
        return render(&f, f.t("change.mismatch")).await;
    }
    let email = f.field(EMAIL);
    let mut username = f.field(USERNAME);
    if username.is_empty() {
        username = email.clone();
    }
    let h = NewHuman {
        username,
        profile: Profile {
            first_name: f.field(FIRSTNAME),
            last_name: f.field(LASTNAME),
            preferred_language: f.lang.to_string(),
            ..Profile::default()
        },
        email,
        password: pw,
        ..NewHuman::default()
    };
    let ctx = Ctx {
        instance_id: f.instance.clone(),
        principal: None,
        org_id: f.org.clone(),
        request_id: String::new(),
        scope: None,
    };
    match castellan_api::app::users::add_human(&f.st, &ctx, f.org.clone(), h).await {
        Ok((id, _)) => f.signed_in(&id).await,
        Err(e) => render(&f, &f.error_text(&e.0)).await,
    }
}
