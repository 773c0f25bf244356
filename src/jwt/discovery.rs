//! OpenID Connect discovery (OIDC Discovery 1.0 §4): the issuer's
//! `/.well-known/openid-configuration` names its JWKS and introspection endpoints.
use reqwest::Url;
use serde_json::Value;

use super::error::ConfigError;
use super::http::{self, HttpClient};
use super::strict_json;

/// The endpoints warden uses from a discovery document.
#[derive(Debug, Clone)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: Url,
    pub introspection_endpoint: Option<Url>,
}

/// The discovery URL for an issuer.
pub fn discovery_url(issuer: &str) -> Result<Url, ConfigError> {
    http::endpoint(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')), "issuer")
}

/// Fetch and check the discovery document: its `issuer` must equal ours exactly (§4.3).
pub fn discover(client: &HttpClient, issuer: &str) -> Result<ProviderMetadata, String> {
    let url = discovery_url(issuer).map_err(|e| e.0)?;
    let resp = client.get(&url)?;
    if resp.status != 200 {
        return Err(format!("OIDC discovery at {} answered HTTP {}", http::url_for_logs(&url), resp.status));
    }
    let doc = strict_json::parse_object(&resp.body).map_err(|e| format!("OIDC discovery document is not a JSON object: {e}"))?;
    match doc.get("issuer") {
        Some(Value::String(s)) if s == issuer => {}
        _ => return Err(format!("OIDC discovery document's \"issuer\" does not equal {}", super::error::quoted(issuer))),
    }
    let jwks_uri = match doc.get("jwks_uri") {
        Some(Value::String(s)) => http::endpoint(s, "jwks_uri").map_err(|e| format!("OIDC discovery: {e}"))?,
        _ => return Err("OIDC discovery document has no \"jwks_uri\"".to_owned()),
    };
    let introspection_endpoint = match doc.get("introspection_endpoint") {
        Some(Value::String(s)) => Some(http::endpoint(s, "introspection_endpoint").map_err(|e| format!("OIDC discovery: {e}"))?),
        _ => None,
    };
    Ok(ProviderMetadata { issuer: issuer.to_owned(), jwks_uri, introspection_endpoint })
}
