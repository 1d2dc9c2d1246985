//! Castellan's API layer. Every RPC is written once (in `grpc/`), as a handler from request
//! message to response message; the gRPC, gRPC-Web and REST transports and the OpenAPI
//! documents are derived from the proto descriptors. One gate authenticates and authorises
//! every call from the permission each RPC declares in its proto.
#![deny(clippy::unwrap_used)]

pub mod app;
pub mod assets;
pub mod authn;
pub mod client_address;
pub mod convert;
pub mod ctx;
pub mod dns;
pub mod error;
pub mod gate;
pub mod grpc;
pub mod hash_pool;
pub mod methods;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod read_cache;
pub mod rest;
pub mod signing_keys;
pub mod state;
pub mod system_auth;
pub mod token_check;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use castellan_proto::zitadel::{
    admin::v1::admin_service_server::AdminServiceServer,
    auth::v1::auth_service_server::AuthServiceServer,
};
use castellan_proto::zitadel::{
    management::v1::management_service_server::ManagementServiceServer,
    system::v1::system_service_server::SystemServiceServer,
};
use http::{HeaderValue, StatusCode};
use state::St;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

pub use state::{ApiConfig, AppState};

/// The gRPC services (with gRPC-Web and reflection) behind the gate.
fn grpc_router(st: &St) -> Router {
    let svc = grpc::Svc { st: st.clone() };
    let web = tonic_web::GrpcWebLayer::new;
    let mut routes = tonic::service::Routes::default();
    routes = routes
        .add_service(tower::Layer::layer(
            &web(),
            AuthServiceServer::new(svc.clone()),
        ))
        .add_service(tower::Layer::layer(
            &web(),
            ManagementServiceServer::new(svc.clone()),
        ))
        .add_service(tower::Layer::layer(
            &web(),
            AdminServiceServer::new(svc.clone()),
        ))
        .add_service(tower::Layer::layer(&web(), SystemServiceServer::new(svc)));
    if let Ok(reflection) = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(castellan_proto::DESCRIPTOR_SET)
        .build_v1()
    {
        routes = routes.add_service(reflection);
    }
    routes
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(st.clone(), gate::gate))
}

#[derive(Clone)]
struct Shared {
    st: St,
    grpc: Router,
    rest: Arc<rest::Rest>,
}

/// The whole HTTP surface of one node: APIs, OpenAPI, and the `/debug` endpoints.
pub fn router(st: St) -> Router {
    let grpc = grpc_router(&st);
    let rest = Arc::new(rest::Rest {
        grpc: grpc.clone(),
        max_body: st.cfg.max_body_bytes,
    });
    let shared = Shared { st, grpc, rest };
    Router::new()
        .route("/debug/healthz", get(|| async { "ok" }))
        .route("/debug/ready", get(ready))
        .route("/debug/metrics", get(metrics))
        .route("/openapi/v2/swagger/{file}", get(swagger))
        .route(
            "/assets/v1/{*path}",
            any(serve_assets).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .fallback(dispatch)
        .with_state(shared)
}

/// gRPC and gRPC-Web go to the services; everything else is REST.
async fn dispatch(State(s): State<Shared>, req: Request) -> Response {
    let ct = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.starts_with("application/grpc") {
        if req.version() < http::Version::HTTP_2 && !ct.starts_with("application/grpc-web") {
            return grpc_needs_http2();
        }
        return match s.grpc.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
    }
    rest::handle(s.rest, req).await
}

/// gRPC (not gRPC-Web) over HTTP/1: an error that says what to use instead, with the gRPC
/// status in the headers for clients that read it there.
fn grpc_needs_http2() -> Response {
    let e = castellan_domain::Error::new(
        castellan_domain::Kind::InvalidArgument,
        "GRPC-h2only",
        "Errors.Request.Grpc.NeedsHttp2",
    )
    .with("gRPC needs HTTP/2; over HTTP/1.1 use gRPC-Web (application/grpc-web) or the REST paths");
    let mut r = rest::error_response(&e);
    error::set_grpc_status(r.headers_mut(), e);
    r
}

async fn serve_assets(State(s): State<Shared>, req: Request) -> Response {
    assets::handle(s.st, req).await
}

async fn ready(State(s): State<Shared>) -> Response {
    match app::setup::initialised(&s.st).await {
        Ok(true) => (StatusCode::OK, "ok").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "not initialised").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.0.text()).into_response(),
    }
}

async fn metrics(State(s): State<Shared>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = s.st.db.stats();
    let body = s.st.metrics.render(&[
        (
            "castellan_db_commits_total",
            "Group commits written.",
            stats.commits.load(Relaxed),
        ),
        (
            "castellan_db_commands_total",
            "Commands submitted to the writer.",
            stats.commands.load(Relaxed),
        ),
        (
            "castellan_db_reads_total",
            "Read operations.",
            stats.reads.load(Relaxed),
        ),
        (
            "castellan_db_max_readers",
            "Size of the reader pool.",
            s.st.db.max_readers() as u64,
        ),
        (
            "castellan_password_hashes_total",
            "Password hashes and checks finished.",
            s.st.hash_pool.done(),
        ),
        (
            "castellan_password_hashes_pending",
            "Password hashes and checks queued or running.",
            s.st.hash_pool.pending(),
        ),
    ]);
    let mut r = body.into_response();
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// `/openapi/v2/swagger/<service>.swagger.json`, generated once from the descriptors.
async fn swagger(Path(file): Path<String>) -> Response {
    static DOCS: OnceLock<HashMap<String, String>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        let m = methods::Methods::get();
        methods::Api::ALL
            .iter()
            .filter_map(|(_, svc, base, short)| {
                openapi::swagger(&m.pool, svc, base)
                    .map(|d| (format!("{short}.swagger.json"), d.to_string()))
            })
            .collect()
    });
    match docs.get(&file) {
        Some(d) => {
            let mut r = d.clone().into_response();
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        None => rest::error_response(
            &castellan_domain::Error::new(
                castellan_domain::Kind::NotFound,
                "OAPI-n0tF0",
                "Errors.Request.Route.NotFound",
            )
            .with(format!("no OpenAPI document named {file}")),
        ),
    }
}
