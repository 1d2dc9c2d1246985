//! Protobuf messages and tonic services of Castellan's APIs, generated from `proto/`.
//!
//! Package and field names follow ZITADEL's v1 wire API so that existing clients work.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// The encoded `FileDescriptorSet` of every API proto, custom options included.
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

pub mod google {
    pub mod api {
        include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
    }
}

pub mod zitadel {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/zitadel.v1.rs"));
        /// ZITADEL's `zitadel.v1.v1`: the objects of ExportData / ImportData.
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.v1.v1.rs"));
        }
    }
    pub mod user {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.user.v1.rs"));
        }
    }
    pub mod org {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.org.v1.rs"));
        }
    }
    pub mod member {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.member.v1.rs"));
        }
    }
    pub mod policy {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.policy.v1.rs"));
        }
    }
    pub mod metadata {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.metadata.v1.rs"));
        }
    }
    pub mod project {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.project.v1.rs"));
        }
    }
    pub mod app {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.app.v1.rs"));
        }
    }
    pub mod change {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.change.v1.rs"));
        }
    }
    pub mod settings {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.settings.v1.rs"));
        }
    }
    pub mod instance {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.instance.v1.rs"));
        }
    }
    pub mod event {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.event.v1.rs"));
        }
    }
    pub mod authn {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.authn.v1.rs"));
        }
    }
    pub mod auth {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.auth.v1.rs"));
        }
    }
    pub mod management {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.management.v1.rs"));
        }
    }
    pub mod admin {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.admin.v1.rs"));
        }
    }
    pub mod system {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.system.v1.rs"));
        }
    }
}
