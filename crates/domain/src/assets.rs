//! Uploaded files (label policy logos, icons and fonts; user avatars): the slots of the label
//! policy, the event payload of an upload, and content sniffing. The bytes live in the store's
//! `assets` table; events only record the key, type, hash and size.

use crate::error::{Error, Kind};
use serde::{Deserialize, Serialize};

/// The files a label policy can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelSlot {
    Logo,
    LogoDark,
    Icon,
    IconDark,
    Font,
}

impl LabelSlot {
    pub const ALL: [LabelSlot; 5] = [
        LabelSlot::Logo,
        LabelSlot::LogoDark,
        LabelSlot::Icon,
        LabelSlot::IconDark,
        LabelSlot::Font,
    ];

    /// The name of the slot in the policy's `assets` JSON.
    pub fn key(self) -> &'static str {
        match self {
            LabelSlot::Logo => "logo",
            LabelSlot::LogoDark => "logo_dark",
            LabelSlot::Icon => "icon",
            LabelSlot::IconDark => "icon_dark",
            LabelSlot::Font => "font",
        }
    }

    /// The prefix of store keys of the slot (ZITADEL's `policy/label/logo-dark-<id>` scheme).
    pub fn store_prefix(self) -> &'static str {
        match self {
            LabelSlot::Logo => "policy/label/logo-",
            LabelSlot::LogoDark => "policy/label/logo-dark-",
            LabelSlot::Icon => "policy/label/icon-",
            LabelSlot::IconDark => "policy/label/icon-dark-",
            LabelSlot::Font => "policy/label/font-",
        }
    }

    /// What the slot accepts.
    pub fn kind(self) -> FileKind {
        if self == LabelSlot::Font {
            FileKind::Font
        } else {
            FileKind::Image
        }
    }
}

/// Payload of an `...added` asset event: where the bytes are and what they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Asset {
    pub store_key: String,
    pub content_type: String,
    /// SHA-256 of the bytes, hex.
    pub hash: String,
    pub size: i64,
}

/// Images or fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Image,
    Font,
}

impl FileKind {
    /// The content types accepted, for error messages.
    pub fn accepted(self) -> &'static str {
        match self {
            FileKind::Image => "image/png, image/jpeg, image/gif, image/webp, image/svg+xml",
            FileKind::Font => "font/woff, font/woff2, font/ttf, font/otf",
        }
    }
}

/// The content type of `bytes`, found from the bytes themselves (never from the file name or
/// the type the client claims). Anything unknown is `application/octet-stream`, text that is
/// not SVG is `text/plain`.
pub fn sniff(bytes: &[u8]) -> &'static str {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"wOFF", "font/woff"),
        (b"wOF2", "font/woff2"),
        (b"\x00\x01\x00\x00", "font/ttf"),
        (b"true", "font/ttf"),
        (b"OTTO", "font/otf"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"BM", "image/bmp"),
        (b"\x7fELF", "application/x-executable"),
    ];
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return "image/webp";
    }
    for (sig, ct) in SIGNATURES {
        if bytes.starts_with(sig) {
            return ct;
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if is_svg(text) => "image/svg+xml",
        Ok(text) if text.trim_start().starts_with('<') => "text/xml",
        Ok(_) => "text/plain",
        Err(_) => "application/octet-stream",
    }
}

/// Whether `text` is an SVG document: an XML document whose root element is `svg` (after an
/// optional BOM, XML declaration, comments and doctype) and that closes it.
fn is_svg(text: &str) -> bool {
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            let Some(end) = r.find("?>") else {
                return false;
            };
            rest = r[end + 2..].trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let Some(end) = r.find("-->") else {
                return false;
            };
            rest = r[end + 3..].trim_start();
        } else if let Some(r) = rest.strip_prefix("<!DOCTYPE") {
            let Some(end) = r.find('>') else {
                return false;
            };
            rest = r[end + 1..].trim_start();
        } else {
            break;
        }
    }
    let Some(r) = rest.strip_prefix("<svg") else {
        return false;
    };
    let root_ok = r.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/');
    let Some(tag_end) = r.find('>') else {
        return false;
    };
    let self_closing = r[..tag_end].ends_with('/');
    root_ok && (self_closing || r.trim_end().ends_with("</svg>"))
}

/// Checks that `bytes` are an accepted file of `kind` no larger than `max`; returns the
/// content type. The errors name the detected type or the limit.
pub fn check(kind: FileKind, bytes: &[u8], max: usize) -> Result<&'static str, Error> {
    if bytes.len() > max {
        return Err(too_large(max));
    }
    if bytes.is_empty() {
        return Err(Error::invalid(
            "ASSET-3mpty",
            "Errors.Assets.Empty",
            "the file is empty",
        ));
    }
    let ct = sniff(bytes);
    let ok = match kind {
        FileKind::Image => ct.starts_with("image/") && ct != "image/bmp",
        FileKind::Font => ct.starts_with("font/"),
    };
    if !ok {
        return Err(Error::invalid(
            "ASSET-typ3s",
            "Errors.Assets.Type.Invalid",
            format!("detected {ct}; accepted are {}", kind.accepted()),
        ));
    }
    Ok(ct)
}

/// Removes EXIF metadata (camera, GPS position, ...) from JPEG and PNG images, as ZITADEL
/// does before storing an upload; other types and malformed files are returned unchanged.
pub fn strip_exif(content_type: &str, bytes: Vec<u8>) -> Vec<u8> {
    let stripped = match content_type {
        "image/jpeg" => strip_jpeg(&bytes),
        "image/png" => strip_png(&bytes),
        _ => None,
    };
    stripped.unwrap_or(bytes)
}

/// A JPEG without its `APP1 Exif` segments (segments up to the start of scan are walked).
fn strip_jpeg(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = b.get(..2)?.to_vec();
    let mut i = 2;
    loop {
        let (&ff, &marker) = (b.get(i)?, b.get(i + 1)?);
        if ff != 0xff {
            return None;
        }
        // Markers without a length.
        if marker == 0xd8 || (0xd0..=0xd7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&b[i..i + 2]);
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]));
        let end = i.checked_add(2)?.checked_add(len)?;
        let seg = b.get(i..end)?;
        if marker == 0xda {
            out.extend_from_slice(&b[i..]);
            return Some(out);
        }
        let is_exif = marker == 0xe1 && seg.get(4..10) == Some(b"Exif\0\0");
        if !is_exif {
            out.extend_from_slice(seg);
        }
        i = end;
    }
}

/// A PNG without its `eXIf` chunks.
fn strip_png(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = b.get(..8)?.to_vec();
    let mut i = 8;
    while i < b.len() {
        let len = u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize;
        let end = i.checked_add(12)?.checked_add(len)?;
        let chunk = b.get(i..end)?;
        if &chunk[4..8] != b"eXIf" {
            out.extend_from_slice(chunk);
        }
        i = end;
    }
    Some(out)
}

/// Id of the error for a file over the limit (HTTP 413 on the assets API).
pub const TOO_LARGE: &str = "ASSET-2b1g0";

/// The error for a file over the limit.
pub fn too_large(max: usize) -> Error {
    Error::new(Kind::ResourceExhausted, TOO_LARGE, "Errors.Assets.TooLarge")
        .with(format!("the limit is {max} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0JFIF"), "image/jpeg");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"wOF2\0\x01"), "font/woff2");
        assert_eq!(sniff(b"OTTO\0"), "font/otf");
        assert_eq!(sniff(b"hello, this is not a png"), "text/plain");
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<!-- logo -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>\n"),
            "image/svg+xml"
        );
        assert_eq!(sniff(b"<svg/>"), "image/svg+xml");
        assert_eq!(sniff(b"<html><svg></svg></html>"), "text/xml");
        assert_eq!(sniff(b"<svgfoo></svgfoo>"), "text/xml");
        assert_eq!(sniff(b"<svg>"), "text/xml");
        assert_eq!(sniff(&[0, 159, 146, 150]), "application/octet-stream");
    }

    #[test]
    fn strips_exif() {
        let exif = [0xff, 0xe1, 0, 10, b'E', b'x', b'i', b'f', 0, 0, 1, 2];
        let app0 = [0xff, 0xe0, 0, 4, 9, 9];
        let scan = [0xff, 0xda, 0, 2, 7, 7, 0xff, 0xd9];
        let jpeg: Vec<u8> = [&[0xff, 0xd8][..], &app0, &exif, &scan].concat();
        let want: Vec<u8> = [&[0xff, 0xd8][..], &app0, &scan].concat();
        assert_eq!(strip_exif("image/jpeg", jpeg), want);
        let chunk = |kind: &[u8], data: &[u8]| {
            [
                &(data.len() as u32).to_be_bytes()[..],
                kind,
                data,
                &[0, 0, 0, 0],
            ]
            .concat()
        };
        let sig = b"\x89PNG\r\n\x1a\n".to_vec();
        let png = [
            sig.clone(),
            chunk(b"IHDR", &[1; 13]),
            chunk(b"eXIf", b"MM\0*"),
            chunk(b"IEND", &[]),
        ]
        .concat();
        let want = [sig, chunk(b"IHDR", &[1; 13]), chunk(b"IEND", &[])].concat();
        assert_eq!(strip_exif("image/png", png), want);
        // Malformed files stay as they are.
        assert_eq!(
            strip_exif("image/jpeg", vec![0xff, 0xd8, 1]),
            vec![0xff, 0xd8, 1]
        );
        assert_eq!(
            strip_exif("image/gif", b"GIF89a".to_vec()),
            b"GIF89a".to_vec()
        );
    }

    #[test]
    fn checks_kind_and_size() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert_eq!(check(FileKind::Image, png, 100), Ok("image/png"));
        assert!(check(FileKind::Font, png, 100).is_err());
        assert_eq!(
            check(FileKind::Image, png, 4).map_err(|e| e.kind),
            Err(Kind::ResourceExhausted)
        );
        let e = check(FileKind::Image, b"plain text", 100).expect_err("text");
        assert!(e.text().contains("text/plain"), "{}", e.text());
    }
}
