//! Outgoing notifications. Today: mail over SMTP (`smtp`), used by the SMTP test RPCs and, later,
//! by verification and reset mails.

pub mod smtp;

pub use smtp::{send, Mail, SmtpSettings};
