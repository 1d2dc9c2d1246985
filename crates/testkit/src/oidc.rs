//! OIDC test support: access tokens minted the way the provider mints them (sealed opaque or
//! signed with the instance's key), for tests of the API gate, userinfo and token checks.

use crate::TestServer;
use castellan_domain::access_token::AccessToken;
use serde_json::json;

impl TestServer {
    /// The id of the instance served at `localhost` (the first instance).
    pub async fn instance_id(&self) -> String {
        let st = self.state();
        castellan_api::authn::instance_by_host(&st.db, &st.cache, "localhost")
            .await
            .unwrap_or_else(|e| panic!("{:?}", e.0))
    }

    /// Access token claims for `user` issued to `client` with `audience` and `scopes`, valid
    /// for an hour, with a fresh id.
    pub async fn access_token(
        &self,
        user: &str,
        client: &str,
        audience: &[&str],
        scopes: &[&str],
    ) -> AccessToken {
        let now = castellan_domain::id::now_micros() / 1_000_000;
        AccessToken {
            id: self.state().ids.next(),
            instance_id: self.instance_id().await,
            subject: user.to_string(),
            client_id: client.to_string(),
            audience: audience.iter().map(|s| s.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            iat: now,
            exp: now + 3600,
            auth_time: None,
            amr: vec![],
            grant_id: None,
            session_id: None,
            act: None,
        }
    }

    /// The opaque form of `t` (sealed with the server's access token key).
    pub fn seal(&self, t: &AccessToken) -> String {
        let c = self
            .state()
            .access_token_cipher()
            .unwrap_or_else(|e| panic!("{e:?}"));
        t.seal(c).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// The JWT form of `t`, signed with the instance's current key, issued by the instance's
    /// origin.
    pub async fn sign_jwt(&self, t: &AccessToken) -> String {
        self.sign_jwt_as(t, &self.origin()).await
    }

    /// The JWT form of `t`, signed with the key of `t`'s instance, issued by `iss`.
    pub async fn sign_jwt_as(&self, t: &AccessToken, iss: &str) -> String {
        let st = self.state();
        let keys = st
            .keys
            .get(st, &t.instance_id)
            .await
            .unwrap_or_else(|e| panic!("{:?}", e.0));
        let mut claims = json!({
            "iss": iss,
            "sub": t.subject,
            "aud": t.audience,
            "exp": t.exp,
            "iat": t.iat,
            "jti": t.id,
            "client_id": t.client_id,
            "scope": t.scopes.join(" "),
        });
        if let Some(s) = &t.session_id {
            claims["sid"] = json!(s);
        }
        keys.signer
            .sign_jwt("at+jwt", &claims)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }
}
