//! The password page (after the login name), its check (rate limits, lockout), and the
//! password change a user must make before continuing.

use crate::flow::{stop, Flow};
use crate::page;
use crate::rate_limit::Keys;
use crate::users::{self, Check};
use crate::Login;
use axum::extract::{Request, State};
use axum::response::Response;
use castellan_api::ctx::Ctx;
use castellan_domain::policy::Login as LoginPolicy;
use castellan_oidc::authorize::escape;
use http::StatusCode;

/// Largest login form accepted.
const MAX_FORM: usize = 64 * 1024;

/// The password form for `login_name`.
pub async fn render(f: &Flow, login_name: &str, error: &str) -> Response {
    let body = format!(
        "<form method=\"post\" action=\"/ui/login/password\">{}{}\
         <p>{}</p><input type=\"text\" name=\"username\" value=\"{}\" autocomplete=\"username\" hidden aria-hidden=\"true\">{}\
         <button type=\"submit\">{}</button></form>\
         <p><a href=\"/ui/login/login?authRequestID={}\">{}</a></p>",
        f.hidden(),
        page::hidden("loginName", login_name),
        escape(login_name),
        escape(login_name),
        page::input("password", f.t("password.label"), "password", "", "current-password", true),
        escape(f.t("password.submit")),
        escape(&f.req.handle),
        escape(f.t("password.other_user")),
    );
    f.page(
        StatusCode::OK,
        "password.title",
        "password.description",
        error,
        &body,
    )
    .await
}

async fn form(l: &Login, req: Request) -> Result<(Flow, String), Response> {
    let (parts, body) = req.into_parts();
    let ip = l.client_address(&parts.extensions, &parts.headers);
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM).await else {
        return Err(stop(StatusCode::PAYLOAD_TOO_LARGE, "", "error.request"));
    };
    let f = Flow::for_form(l, &parts.headers, &parts.uri, &body).await?;
    Ok((f, ip))
}

pub async fn submit(State(l): State<Login>, req: Request) -> Response {
    let (f, ip) = match form(&l, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = f.field("loginName");
    if !users::policy::<LoginPolicy>(&f.st, &f.instance, &f.org)
        .await
        .allow_username_password
    {
        return crate::login_name::render(&f, &name, "").await;
    }
    let org_only = f.req.org_id_scope().is_some() || f.req.org_domain_scope().is_some();
    let (user, keys) = match checkable(&f, &name, org_only, &ip).await {
        Ok(x) => x,
        Err(stopped) => return stopped,
    };
    let Some(user) = user else {
        // As slow as a wrong password, so the time does not tell that the user is unknown.
        l.waste_a_hash(&f.raw("password")).await;
        if let Err(e) = keys.hit(&f.st).await {
            return f.sign_in_failed(&e);
        }
        return render(&f, &name, f.t("password.invalid")).await;
    };
    // The session starts at once unless the password must be changed first; its writes go
    // into the commit that records the check.
    let (writes, code) = match user.password_change_required {
        true => (None, None),
        false => {
            let (w, c) = f.sign_in_writes(&user.id);
            (Some(w), c)
        }
    };
    let password = f.raw("password");
    match users::check_password(&f.st, &f.instance, &user, &password, &keys, writes).await {
        Ok(Check::Ok) => {}
        Ok(Check::Wrong) => return render(&f, &name, f.t("password.invalid")).await,
        Ok(Check::Locked) => return render(&f, &name, locked_text(&f, &user).await).await,
        Ok(Check::Inactive) => return render(&f, &name, f.t("password.inactive")).await,
        Err(e) => return f.sign_in_failed(&e),
    }
    if user.password_change_required {
        // The session starts only once the password is changed.
        return render_change(&f, &user.login_name, "").await;
    }
    f.signed_in_answer(code.as_deref())
}

/// The user `name` names and the counters of a check for it, unless the check may not run:
/// then the page that stops it (429: the address or the user is at its limit of failed
/// checks; 503: the database cannot be read).
async fn checkable(
    f: &Flow,
    name: &str,
    org_only: bool,
    ip: &str,
) -> Result<(Option<castellan_api::app::users::UserRow>, Keys), Response> {
    match users::candidate(&f.st, &f.instance, name, &f.org, org_only, ip).await {
        Ok(c) if c.allowed => Ok((c.user, c.keys)),
        Ok(_) => Err(f.stop(StatusCode::TOO_MANY_REQUESTS, "error.rate")),
        Err(e) => Err(f.sign_in_failed(&e)),
    }
}

/// What a locked user is told: that the user is locked when the lockout policy shows lockout
/// failures (ZITADEL's default), else the generic failure.
async fn locked_text(f: &Flow, user: &castellan_api::app::users::UserRow) -> &'static str {
    let show = users::policy::<castellan_domain::policy::Lockout>(&f.st, &f.instance, &user.org_id)
        .await
        .show_lockout_failures;
    f.t(if show {
        "password.locked"
    } else {
        "password.invalid"
    })
}

/// The password change form.
pub async fn render_change(f: &Flow, login_name: &str, error: &str) -> Response {
    let body = format!(
        "<form method=\"post\" action=\"/ui/login/password/change\">{}{}{}{}{}<button type=\"submit\">{}</button></form>",
        f.hidden(),
        page::hidden("loginName", login_name),
        page::input("change-old-password", f.t("change.old"), "password", "", "current-password", true),
        page::input("change-new-password", f.t("change.new"), "password", "", "new-password", false),
        page::input("change-password-confirmation", f.t("change.confirm"), "password", "", "new-password", false),
        escape(f.t("change.submit")),
    );
    f.page(
        StatusCode::OK,
        "change.title",
        "change.description",
        error,
        &body,
    )
    .await
}

/// `POST /ui/login/password/change`: the current password again (this form is not a
/// session), the new one twice, checked against the complexity policy.
pub async fn change(State(l): State<Login>, req: Request) -> Response {
    let (f, ip) = match form(&l, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = f.field("loginName");
    let org_only = f.req.org_id_scope().is_some() || f.req.org_domain_scope().is_some();
    let (user, keys) = match checkable(&f, &name, org_only, &ip).await {
        Ok(x) => x,
        Err(stopped) => return stopped,
    };
    let Some(user) = user else {
        if let Err(e) = keys.hit(&f.st).await {
            return f.sign_in_failed(&e);
        }
        return crate::login_name::render(&f, &name, f.t("password.invalid")).await;
    };
    let (new, confirm) = (
        f.raw("change-new-password"),
        f.raw("change-password-confirmation"),
    );
    match users::check_password(
        &f.st,
        &f.instance,
        &user,
        &f.raw("change-old-password"),
        &keys,
        None,
    )
    .await
    {
        Ok(Check::Ok) => {}
        Ok(Check::Locked) => return render(&f, &name, locked_text(&f, &user).await).await,
        Ok(Check::Wrong) => return render_change(&f, &name, f.t("password.invalid")).await,
        Ok(_) => return render_change(&f, &name, f.t("password.invalid")).await,
        Err(_) => return f.stop(StatusCode::SERVICE_UNAVAILABLE, "error.busy"),
    }
    if new != confirm {
        return render_change(&f, &name, f.t("change.mismatch")).await;
    }
    let ctx = Ctx {
        instance_id: f.instance.clone(),
        principal: None,
        org_id: user.org_id.clone(),
        request_id: String::new(),
        scope: None,
    };
    if let Err(e) =
        castellan_api::app::users::set_password(&f.st, &ctx, &user.id, &new, false, false).await
    {
        return render_change(&f, &name, &f.error_text(&e.0)).await;
    }
    f.signed_in(&user.id).await
}
