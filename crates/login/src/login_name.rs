//! The first page: the login name (prefilled from `login_hint`), with a link to register when
//! the login policy allows it.

use crate::flow::Flow;
use crate::page;
use crate::users;
use crate::Login;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use castellan_domain::policy::Login as LoginPolicy;
use castellan_oidc::authorize::escape;
use http::{HeaderMap, StatusCode, Uri};

pub async fn page(State(l): State<Login>, headers: HeaderMap, uri: Uri) -> Response {
    let f = match Flow::for_page(&l, &headers, &uri).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let hint = f.req.login_hint.clone();
    render(&f, &hint, "").await
}

/// The login name form with `value` and `error`.
pub async fn render(f: &Flow, value: &str, error: &str) -> Response {
    let policy = users::policy::<LoginPolicy>(&f.st, &f.instance, &f.org).await;
    if !policy.allow_username_password {
        return f
            .page(
                StatusCode::OK,
                "login.title",
                "login.description",
                f.t("login.not_allowed"),
                "",
            )
            .await;
    }
    let register = if policy.allow_register {
        format!(
            "<p><a href=\"/ui/login/register?authRequestID={}\">{}</a></p>",
            escape(&f.req.handle),
            escape(f.t("login.register"))
        )
    } else {
        String::new()
    };
    // Under an organisation's primary domain scope the user types the name without the
    // domain, which the field shows after it (unless the label policy hides it, as ZITADEL's
    // `hideLoginNameSuffix`).
    let field = match f.req.org_domain_scope() {
        Some(domain)
            if !page::brand(&f.st, &f.instance, &f.org, &f.host)
                .await
                .hide_login_name_suffix =>
        {
            page::input_with_suffix(
                "loginName",
                f.t("login.name"),
                value,
                "username",
                &format!("@{domain}"),
            )
        }
        _ => page::input(
            "loginName",
            f.t("login.name"),
            "text",
            value,
            "username",
            true,
        ),
    };
    let body = format!(
        "<form method=\"post\" action=\"/ui/login/loginname\">{}{field}<button type=\"submit\">{}</button></form>{register}",
        f.hidden(),
        escape(f.t("login.next")),
    );
    f.page(
        StatusCode::OK,
        "login.title",
        "login.description",
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
    let name = f.field("loginName");
    let policy = users::policy::<LoginPolicy>(&f.st, &f.instance, &f.org).await;
    if !policy.allow_username_password {
        return render(&f, &name, "").await;
    }
    let org_only = f.req.org_id_scope().is_some() || f.req.org_domain_scope().is_some();
    match users::find_cached(&f.st, &f.instance, &name, &f.org, org_only).await {
        Some(u) => crate::password::render(&f, &u.login_name, "").await,
        // The policy says not to tell: the password page fails later, generically.
        None if policy.ignore_unknown_usernames => crate::password::render(&f, &name, "").await,
        None => render(&f, &name, f.t("login.user_not_found")).await,
    }
}
