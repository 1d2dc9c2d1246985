//! Tokens for a completed login, shared by the grants that redeem one (authorization code,
//! device code): an access token, an ID token when `openid` was granted and a refresh token
//! when `offline_access` was granted and the app may refresh.

use crate::client_auth::App;
use crate::mint::{self, Grant, IdExtras, Refresh};
use crate::oauth_error::{json_ok, OAuthError, OResult};
use crate::scopes;
use crate::settings::OidcSettings;
use crate::token::Call;
use crate::Oidc;
use axum::response::Response;
use castellan_domain::id::now_micros;
use castellan_domain::oidc_app::grant_type;

/// What the login established, as stored on the request or the device authorization.
pub struct Login<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    /// µs; 0 when unknown.
    pub auth_time: i64,
    /// Space-separated `amr` values.
    pub amr: &'a str,
    /// Granted scopes, space-separated.
    pub scope: &'a str,
    /// Grant id of every token minted (and the refresh-token family).
    pub grant_id: String,
    pub nonce: Option<&'a str>,
    /// The token check's verdict when the redemption already read it; `None`: check now.
    pub active: Option<bool>,
}

/// Mints the tokens of `login` for `app`; `inactive_id` is the error id when the user or the
/// session is no longer active.
pub async fn tokens(
    o: &Oidc,
    c: &Call,
    app: &App,
    s: &OidcSettings,
    login: Login<'_>,
    inactive_id: &'static str,
) -> OResult<Response> {
    let scopes = scopes::parse(login.scope);
    let g = Grant {
        instance: c.instance.clone(),
        issuer: c.issuer.clone(),
        subject: login.user_id.to_string(),
        client_id: app.client_id.clone(),
        project_id: app.project_id.clone(),
        audience: scopes::audience(&app.project_audience, &scopes, &c.instance),
        auth_time: (login.auth_time > 0).then_some(login.auth_time / 1_000_000),
        amr: login
            .amr
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect(),
        grant_id: Some(login.grant_id.clone()),
        session_id: (!login.session_id.is_empty()).then(|| login.session_id.to_string()),
        jwt: app.jwt_access_token(),
        scopes,
    };
    // The user deactivated or the session ended since the login: no tokens. A verdict the
    // redemption already read refuses before anything is minted.
    let refused = || OAuthError::invalid_grant(inactive_id, "the grant is no longer valid");
    if login.active == Some(false) {
        return Err(refused());
    }
    let at = mint::access_token(&o.st, &g, s).await?;
    if login.active.is_none()
        && !castellan_api::token_check::access_token_active(&o.st, &at.claims).await?
    {
        return Err(refused());
    }
    let id_token = if g.scopes.iter().any(|s| s == scopes::OPENID) {
        let x = IdExtras {
            nonce: login.nonce,
            access_token: Some(&at.token),
            code: None,
        };
        Some(mint::id_token(&o.st, &g, s, x).await?)
    } else {
        None
    };
    let refresh = if g.scopes.iter().any(|s| s == scopes::OFFLINE_ACCESS)
        && app.allows(grant_type::REFRESH_TOKEN)
    {
        let now = now_micros();
        let micros = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4);
        // The family is the grant: revoking one revokes the other.
        let row = Refresh {
            id: o.st.ids.next(),
            family_id: login.grant_id.clone(),
            client_id: app.client_id.clone(),
            user_id: login.user_id.to_string(),
            session_id: login.session_id.to_string(),
            scopes: g.scopes.clone(),
            audience: g.audience.clone(),
            auth_time: login.auth_time,
            amr: g.amr.clone(),
            idle_expires_at: now + micros(s.refresh_token_idle_expiration),
            expires_at: now + micros(s.refresh_token_expiration),
        };
        let (token, hash) = mint::refresh_secret();
        let inst = c.instance.clone();
        o.st.db
            .write(&login.grant_id, move |conn| {
                mint::insert_refresh(conn, &inst, &row, &hash)
            })
            .await?;
        Some(token)
    } else {
        None
    };
    Ok(json_ok(&mint::response(&at, id_token, refresh)))
}
