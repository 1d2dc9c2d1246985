//! `castellan`: an identity and access management server with ZITADEL-compatible APIs.

use castellan_server::{config, TlsMode};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "castellan",
    version,
    about = "Castellan: a multi-tenant identity and access management server (ZITADEL v1 compatible APIs, one binary, SQLite or PostgreSQL)."
)]
struct Cli {
    /// YAML configuration file(s) with ZITADEL's key names; later files override earlier ones.
    #[arg(long, global = true)]
    config: Vec<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Serve {
    /// The 32-character masterkey that encrypts secrets at rest.
    #[arg(long, short = 'm', conflicts_with_all = ["masterkey_file", "masterkey_from_env"])]
    masterkey: Option<String>,
    /// Read the masterkey from this file.
    #[arg(long, conflicts_with = "masterkey_from_env")]
    masterkey_file: Option<PathBuf>,
    /// Read the masterkey from the environment variable CASTELLAN_MASTERKEY.
    #[arg(long)]
    masterkey_from_env: bool,
    /// enabled: serve HTTPS with TLS.CertPath/TLS.KeyPath; external: a proxy terminates TLS;
    /// disabled: plain HTTP for local use.
    #[arg(long, value_enum)]
    tls_mode: Option<TlsMode>,
    /// Port to listen on (overrides Port).
    #[arg(long)]
    port: Option<u16>,
    /// Domain under which users reach Castellan (overrides ExternalDomain).
    #[arg(long)]
    external_domain: Option<String>,
    /// Port under which users reach Castellan (overrides ExternalPort).
    #[arg(long)]
    external_port: Option<u16>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve an initialised database.
    Start(Serve),
    /// Create the database, the first instance, organisation and administrator if missing, then serve.
    StartFromInit(Serve),
    /// Read-model maintenance.
    Projections {
        #[command(subcommand)]
        cmd: ProjectionCmd,
    },
}

#[derive(Subcommand)]
enum ProjectionCmd {
    /// Empty every read model and replay all events into it (the server must be stopped).
    Rebuild,
}

fn masterkey(s: &Serve) -> Result<String, String> {
    if let Some(k) = &s.masterkey {
        return Ok(k.clone());
    }
    if let Some(f) = &s.masterkey_file {
        return std::fs::read_to_string(f)
            .map(|k| k.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| format!("cannot read the masterkey file {}: {e}", f.display()));
    }
    if s.masterkey_from_env {
        return std::env::var("CASTELLAN_MASTERKEY")
            .map_err(|_| "--masterkey-from-env is set but CASTELLAN_MASTERKEY is not".to_string());
    }
    Err("a masterkey is required: --masterkey, --masterkey-file or --masterkey-from-env".into())
}

fn init_logging(cfg: &config::Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CASTELLAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.level));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut cfg = config::load(&cli.config, std::env::vars())?;
    match cli.cmd {
        Cmd::Projections {
            cmd: ProjectionCmd::Rebuild,
        } => {
            init_logging(&cfg);
            let n = castellan_server::rebuild_projections(&cfg).await?;
            println!("rebuilt every read model from {n} events");
            Ok(())
        }
        cmd => {
            let (s, init) = match cmd {
                Cmd::Start(s) => (s, false),
                Cmd::StartFromInit(s) => (s, true),
                Cmd::Projections { .. } => return Ok(()),
            };
            cfg.masterkey = castellan_server::check_masterkey(&masterkey(&s)?)?;
            if let Some(p) = s.port {
                cfg.port = p;
            }
            if let Some(d) = s.external_domain {
                cfg.external_domain = d;
            }
            if let Some(p) = s.external_port {
                cfg.external_port = p;
            }
            init_logging(&cfg);
            let running = castellan_server::start(castellan_server::Options {
                config: cfg,
                tls_mode: s.tls_mode,
                init,
                listen: None,
                node: None,
            })
            .await?;
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
