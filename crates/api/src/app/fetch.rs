//! Fetching documents that configuration points at (SAML metadata URLs), with a timeout and a
//! size limit. The URL is the caller's: only http(s) is fetched, errors name the URL.

use castellan_domain::saml_metadata::MAX_METADATA_BYTES;
use castellan_domain::{Error, Kind, Result};
use std::time::Duration;

/// How long one fetch may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);

fn unreachable(url: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        Kind::InvalidArgument,
        "APP-f3tch",
        "Errors.Project.App.SAMLMetadataUnreachable",
    )
    .with(format!("metadataUrl {url}: {why}"))
}

/// GETs SAML metadata from `url`: a 2xx answer of at most `MAX_METADATA_BYTES`.
pub async fn metadata(url: &str) -> Result<Vec<u8>> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| Error::internal("APP-f3tc0", e.to_string()))?;
    let mut res = client
        .get(url)
        .header(
            "accept",
            "application/samlmetadata+xml, application/xml, text/xml",
        )
        .send()
        .await
        .map_err(|e| unreachable(url, format!("cannot be fetched ({e})")))?;
    let status = res.status();
    if !status.is_success() {
        return Err(unreachable(
            url,
            format!("answered HTTP {}", status.as_u16()),
        ));
    }
    if res
        .content_length()
        .is_some_and(|n| n > MAX_METADATA_BYTES as u64)
    {
        return Err(unreachable(
            url,
            format!("is larger than {MAX_METADATA_BYTES} bytes"),
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| unreachable(url, format!("cannot be read ({e})")))?
    {
        if body.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err(unreachable(
                url,
                format!("is larger than {MAX_METADATA_BYTES} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
