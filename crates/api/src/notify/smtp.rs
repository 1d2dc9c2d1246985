//! Sending one mail over SMTP with lettre (tokio, rustls on aws-lc-rs).
//!
//! TLS as ZITADEL's `tls` flag: on port 465 the connection is TLS from the start, on other
//! ports STARTTLS is required; without `tls` the session is plain. Credentials are sent when a
//! user is set (AUTH PLAIN or LOGIN, whichever the server offers), and, as Go's `PlainAuth` in
//! ZITADEL, over a plain session only to a loopback host. Every step is bounded by the timeout,
//! and a failure carries the server's (or the network's) own words.

use castellan_domain::Error;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Where and how to send. `Debug` leaves the password out.
#[derive(Clone, Default)]
pub struct SmtpSettings {
    /// `host:port`.
    pub host: String,
    pub tls: bool,
    pub user: String,
    pub password: String,
    pub sender_address: String,
    pub sender_name: String,
    pub reply_to_address: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("sender_address", &self.sender_address)
            .finish_non_exhaustive()
    }
}

/// One plain-text mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

fn failed(detail: String) -> Error {
    Error::precondition("SMTP-s3ndF", "Errors.SMTPConfig.SendFailed").with(detail)
}

/// Splits `host:port` (IPv6 hosts in brackets).
pub fn split_host(host_port: &str) -> Option<(String, u16)> {
    let (h, p) = host_port.trim().rsplit_once(':')?;
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    let port: u16 = p.parse().ok().filter(|p| *p > 0)?;
    if h.is_empty() || h.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
        return None;
    }
    Some((h.to_string(), port))
}

fn mailbox(field: &str, name: &str, addr: &str) -> Result<Mailbox, Error> {
    let address = addr
        .parse()
        .map_err(|e| failed(format!("{field} {addr:?} is not a valid address: {e}")))?;
    let name = (!name.trim().is_empty()).then(|| name.trim().to_string());
    Ok(Mailbox::new(name, address))
}

/// Sends `mail` with `s`; the whole exchange must finish within `timeout`.
pub async fn send(s: &SmtpSettings, mail: &Mail, timeout: Duration) -> Result<(), Error> {
    let (host, port) =
        split_host(&s.host).ok_or_else(|| failed(format!("host {:?} is not host:port", s.host)))?;
    let mut b = Message::builder()
        .from(mailbox(
            "sender_address",
            &s.sender_name,
            &s.sender_address,
        )?)
        .to(mailbox("receiver_address", "", &mail.to)?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    if !s.reply_to_address.trim().is_empty() {
        b = b.reply_to(mailbox("reply_to_address", "", &s.reply_to_address)?);
    }
    let msg = b
        .body(mail.body.clone())
        .map_err(|e| failed(format!("the mail cannot be built: {e}")))?;

    if !s.tls && !s.user.is_empty() && !is_loopback(&host) {
        return Err(failed(format!(
            "credentials are sent only over TLS or to a loopback host; set tls for {host}:{port}"
        )));
    }
    let tls = if s.tls {
        let params = TlsParameters::new(host.clone())
            .map_err(|e| failed(format!("TLS setup for {host} failed: {e}")))?;
        if port == 465 {
            Tls::Wrapper(params)
        } else {
            Tls::Required(params)
        }
    } else {
        Tls::None
    };
    let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(port)
        .tls(tls)
        .timeout(Some(timeout));
    if !s.user.is_empty() {
        t = t.credentials(Credentials::new(s.user.clone(), s.password.clone()));
    }
    let transport = t.build();
    match tokio::time::timeout(timeout, transport.send(msg)).await {
        Err(_) => Err(failed(format!(
            "no answer from {host}:{port} within {}s",
            timeout.as_secs_f32()
        ))),
        Ok(Err(e)) => Err(failed(describe(&e, &host, port))),
        Ok(Ok(_)) => Ok(()),
    }
}

/// `localhost` and loopback addresses.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The error with its sources (lettre's top-level text omits the OS reason).
fn describe(e: &lettre::transport::smtp::Error, host: &str, port: u16) -> String {
    let mut out = format!("{host}:{port}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host("smtp.example.com:587"),
            Some(("smtp.example.com".into(), 587))
        );
        assert_eq!(split_host("[::1]:25"), Some(("::1".into(), 25)));
        assert_eq!(split_host("smtp.example.com"), None);
        assert_eq!(split_host("smtp.example.com:0"), None);
        assert_eq!(split_host(":25"), None);
        assert_eq!(split_host("a b:25"), None);
        assert_eq!(split_host("host:99999"), None);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.3.4.5"));
        assert!(is_loopback("::1"));
        assert!(!is_loopback("smtp.example.com"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn debug_hides_the_password() {
        let s = SmtpSettings {
            password: "hunter2".into(),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
