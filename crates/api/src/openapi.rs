//! placeholder
pub fn swagger(_: &prost_reflect::DescriptorPool, _: &str, _: &str) -> Option<serde_json::Value> { None }
