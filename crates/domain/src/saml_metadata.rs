//! SAML service provider metadata: the checks an application's metadata must pass.

use crate::{Error, Result};
use quick_xml::events::Event;
use quick_xml::Reader;

/// The largest metadata document accepted, in bytes (as ZITADEL's limit on `metadata_xml`).
pub const MAX_METADATA_BYTES: usize = 500_000;

fn bad(detail: String) -> Error {
    Error::invalid(
        "SAML-m3t4d",
        "Errors.Project.App.SAMLMetadataFormat",
        detail,
    )
}

/// Parses SAML metadata and returns the `entityID` of its root `EntityDescriptor` element (any
/// namespace prefix). `what` names the source in errors (`metadataXml`, or the URL).
pub fn entity_id(xml: &[u8], what: &str) -> Result<String> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(bad(format!(
            "{what} is larger than {MAX_METADATA_BYTES} bytes"
        )));
    }
    let text = std::str::from_utf8(xml).map_err(|_| bad(format!("{what} is not UTF-8 text")))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| bad(format!("{what} is not well-formed XML: {e}")))?;
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                if e.local_name().as_ref() != "EntityDescriptor" {
                    let name = e.local_name().as_ref().to_string();
                    return Err(bad(format!(
                        "{what} must have an EntityDescriptor as its root element, not {name}"
                    )));
                }
                for a in e.attributes() {
                    let a = a.map_err(|e| bad(format!("{what} is not well-formed XML: {e}")))?;
                    if a.key.local_name().as_ref() == "entityID" {
                        let v = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| bad(format!("{what} is not well-formed XML: {e}")))?;
                        let v = v.trim();
                        if v.is_empty() {
                            break;
                        }
                        check_rest(&mut reader, what)?;
                        return Ok(v.to_string());
                    }
                }
                return Err(bad(format!("{what}: the EntityDescriptor has no entityID")));
            }
            Event::Eof => {
                return Err(bad(format!("{what} contains no EntityDescriptor")));
            }
            // Declarations, comments, processing instructions, doctype, whitespace.
            _ => {}
        }
    }
}

/// Reads the rest of the document so that malformed XML after the root tag is refused too.
fn check_rest(reader: &mut Reader<&[u8]>, what: &str) -> Result<()> {
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(bad(format!("{what} is not well-formed XML: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::entity_id;

    #[test]
    fn finds_the_entity_id() {
        let xml = br#"<?xml version="1.0"?>
<!-- sp -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com/metadata">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>
</md:EntityDescriptor>"#;
        assert_eq!(
            entity_id(xml, "metadataXml").expect("ok"),
            "https://sp.example.com/metadata"
        );
        let plain = br#"<EntityDescriptor entityID="urn:x"/>"#;
        assert_eq!(entity_id(plain, "m").expect("ok"), "urn:x");
    }

    #[test]
    fn refuses_bad_metadata() {
        let e = |x: &[u8]| entity_id(x, "metadataXml").expect_err("bad").text();
        assert!(e(b"not xml at all").contains("no EntityDescriptor"));
        assert!(e(b"<html><body/></html>").contains("not html"));
        assert!(e(br#"<EntityDescriptor/>"#).contains("no entityID"));
        assert!(e(br#"<EntityDescriptor entityID="  "/>"#).contains("no entityID"));
        assert!(
            e(br#"<EntityDescriptor entityID="x"><a></b></EntityDescriptor>"#)
                .contains("not well-formed")
        );
        assert!(e(&[0xff, 0xfe]).contains("UTF-8"));
    }
}
