//! Serving one port: HTTP/1.1 and HTTP/2 (h2c, or ALPN under TLS) for REST, gRPC and gRPC-Web.

use crate::first_bytes::{self, FirstBytes};
use crate::idle_body::IdleBody;
use crate::{cors, security_headers};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// Loads a TLS server configuration (ALPN h2 and http/1.1) from PEM files.
pub fn tls_acceptor(cert_path: &str, key_path: &str) -> Result<TlsAcceptor, String> {
    if cert_path.is_empty() || key_path.is_empty() {
        return Err("TLS is enabled but TLS.CertPath or TLS.KeyPath is not set (use --tls-mode disabled for local use, or external behind a TLS proxy)".into());
    }
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert_path)
            .map_err(|e| format!("cannot open TLS.CertPath {cert_path}: {e}"))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| format!("TLS.CertPath {cert_path} is not a PEM certificate chain: {e}"))?;
    if certs.is_empty() {
        return Err(format!("TLS.CertPath {cert_path} holds no certificate"));
    }
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key_path)
            .map_err(|e| format!("cannot open TLS.KeyPath {key_path}: {e}"))?,
    ))
    .map_err(|e| format!("TLS.KeyPath {key_path} is not a PEM private key: {e}"))?
    .ok_or_else(|| format!("TLS.KeyPath {key_path} holds no private key"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate and key do not match: {e}"))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

/// The router as the port serves it: each request gets its peer address (`ConnectInfo`, for
/// the login's rate limits) and a body that fails when its client falls silent
/// ([`IdleBody`]), and each answer the security headers and, for a cross-origin
/// caller, CORS; a CORS preflight is answered without the router. One service around the
/// router, not a middleware layer on each of its routes.
#[derive(Clone)]
pub struct Edge {
    pub router: Router,
    /// Users reach Castellan over https (HSTS).
    pub https: bool,
    /// How long a request body may stay silent (`HTTP.HeaderTimeout`).
    pub wait: Duration,
}

type EdgeFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Edge {
    fn handle(&self, peer: SocketAddr, mut req: http::Request<Incoming>) -> EdgeFuture {
        let cors = cors::of(req.method(), req.uri().path(), req.headers());
        let https = self.https;
        if let cors::Cors::Preflight(origin) = cors {
            let mut r = cors::preflight(origin);
            security_headers::add(r.headers_mut(), https);
            return Box::pin(std::future::ready(Ok(r)));
        }
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let wait = self.wait;
        let answer = self
            .router
            .clone()
            .call(req.map(|b| axum::body::Body::new(IdleBody::new(b, wait))));
        Box::pin(async move {
            let mut r = answer.await?;
            let h = r.headers_mut();
            security_headers::add(h, https);
            if let cors::Cors::Answer(origin) = cors {
                cors::expose(h, origin);
            }
            Ok(r)
        })
    }
}

/// Accepts connections until `stop` turns true; each connection is served on its own task.
/// A client that is silent for `edge.wait` (during the TLS handshake, within a request's
/// headers or body, between HTTP/1.1 requests, or to an HTTP/2 ping), or that has not sent
/// its opening bytes within it ([`FirstBytes`]), is let go.
pub async fn serve(
    listener: TcpListener,
    edge: Edge,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let wait = edge.wait;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let edge = edge.clone();
        let svc = hyper::service::service_fn(move |req| edge.handle(peer, req));
        let tls = tls.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(wait);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(wait)
                .keep_alive_timeout(wait);
            let result = match tls {
                Some(acceptor) => match tokio::time::timeout(wait, acceptor.accept(stream)).await {
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                    Ok(Ok(s)) => {
                        // The protocol chosen by ALPN is served without sniffing: under
                        // HTTP/1.1 the header timeout then covers the first request too; the
                        // HTTP/2 preface, or the sniffing without ALPN, is bounded here.
                        let need = match s.get_ref().1.alpn_protocol() {
                            Some(b"http/1.1") => {
                                builder = builder.http1_only();
                                0
                            }
                            Some(b"h2") => {
                                builder = builder.http2_only();
                                first_bytes::PREFACE
                            }
                            _ => first_bytes::PREFACE,
                        };
                        let io = TokioIo::new(FirstBytes::new(s, need, wait));
                        let conn = builder.serve_connection(io, svc);
                        tokio::pin!(conn);
                        tokio::select! {
                            r = conn.as_mut() => r,
                            _ = stop.changed() => { conn.as_mut().graceful_shutdown(); conn.await }
                        }
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    // Which HTTP a connection speaks is read from its first bytes.
                    let io = TokioIo::new(FirstBytes::new(stream, first_bytes::PREFACE, wait));
                    let conn = builder.serve_connection(io, svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        r = conn.as_mut() => r,
                        _ = stop.changed() => { conn.as_mut().graceful_shutdown(); conn.await }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
