//! The U2C service catalog (protocol.md §3): fetched as the official SDK does, it names the
//! services (`hydra`, `wdm`, `mercury`, `locus`, ...) the engine uses from then on.

use crate::error::{Error, Result};
use crate::http::{Http, HttpRequest};
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;

/// The org id the official SDK derives from a token (protocol.md §2.2): the JWT claim `realm`,
/// else the third `_`-separated field of an opaque token.
pub fn org_id_from_token(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3 {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1].trim_end_matches('=')).ok()?;
        let claims: Value = serde_json::from_slice(&payload).ok()?;
        return claims.get("realm").and_then(Value::as_str).map(str::to_owned);
    }
    token.split('_').nth(2).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Fetch the limited catalog (no token) and, with a token, the full one, and hand the merged
/// service map to the pipeline (`services.override` still wins).
pub async fn load(http: &Http) -> Result<BTreeMap<String, String>> {
    let u2c = http.service_url("u2c", "")?.trim_end_matches('/').to_owned();
    let token = http.credentials().access_token();
    let mut limited = HttpRequest::get(format!("{u2c}/limited/catalog")).without_auth();
    match token.as_deref().and_then(org_id_from_token) {
        Some(org) => limited.query.push(("orgId".into(), org)),
        None => limited.query.push(("mode".into(), "DEFAULT_BY_PROXIMITY".into())),
    }
    limited.query.push(("format".into(), "hostmap".into()));
    let mut services = parse(&http.send_json::<Value>(limited).await?)?;
    if token.is_some() {
        let mut full = HttpRequest::get(format!("{u2c}/catalog"));
        full.query.push(("format".into(), "hostmap".into()));
        services.extend(parse(&http.send_json::<Value>(full).await?)?);
    }
    http.services().set_catalog(services.clone());
    Ok(services)
}

/// The service URLs of a `format=hostmap` catalog, each pointed at its priority host.
pub fn parse(catalog: &Value) -> Result<BTreeMap<String, String>> {
    let links = catalog
        .get("serviceLinks")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::protocol("the U2C catalog has no `serviceLinks` object"))?;
    let hosts = catalog
        .get("hostCatalog")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::protocol("the U2C catalog has no `hostCatalog` object"))?;
    let mut services = BTreeMap::new();
    for (name, link) in links {
        let Some(link) = link.as_str() else { continue };
        let Ok(mut url) = url::Url::parse(link) else {
            tracing::warn!(target: "webex::catalog", "ignoring service {name}: not a URL");
            continue;
        };
        let key = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        if let Some(host) = hosts.get(&key).and_then(priority_host) {
            // Assigning a bare host keeps the link's port, as the official client does.
            let _ = url.set_host(Some(&host));
        }
        services.insert(name.clone(), url.as_str().trim_end_matches('/').to_owned());
    }
    Ok(services)
}

/// The lowest-`priority` host among the entries whose id's 4th colon field (the service name,
/// `urn:TEAM:<cluster>:<service>`) equals the first entry's, as the official client picks it.
fn priority_host(entries: &Value) -> Option<String> {
    let entries = entries.as_array()?;
    let cluster =
        |e: &Value| e.get("id").and_then(Value::as_str).and_then(|id| id.split(':').nth(3)).map(str::to_owned);
    let home = cluster(entries.first()?);
    entries
        .iter()
        .filter(|e| cluster(e) == home)
        .min_by_key(|e| e.get("priority").and_then(Value::as_i64).unwrap_or(i64::MAX))
        .and_then(|e| e.get("host").and_then(Value::as_str))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn org_from_opaque_and_jwt_tokens() {
        assert_eq!(
            org_id_from_token("abc_PF84_1eb65fdf-9643-417f-9974-ad72cae0e10f").unwrap(),
            "1eb65fdf-9643-417f-9974-ad72cae0e10f"
        );
        assert_eq!(org_id_from_token("plain"), None);
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"realm":"org-1"}"#);
        assert_eq!(org_id_from_token(&format!("h.{payload}.s")).unwrap(), "org-1");
    }

    #[test]
    fn priority_hosts_keep_ports() {
        let catalog = json!({
            "serviceLinks": {"wdm": "https://wdm.test:8443/wdm/api/v1", "hydra": "https://api.test/v1"},
            "hostCatalog": {
                "wdm.test:8443": [
                    {"host": "wdm-b.test", "priority": 7, "id": "urn:TEAM:us-east-2_a:wdm"},
                    {"host": "wdm-a.test", "priority": 5, "id": "urn:TEAM:us-east-2_a:wdm"},
                    {"host": "locus-x.test", "priority": 1, "id": "urn:TEAM:us-east-2_a:locus"}
                ]
            },
            "format": "hostmap"
        });
        let s = parse(&catalog).unwrap();
        assert_eq!(s["wdm"], "https://wdm-a.test:8443/wdm/api/v1");
        assert_eq!(s["hydra"], "https://api.test/v1");
    }

    #[test]
    fn a_catalog_without_host_catalog_is_a_protocol_error() {
        let err = parse(&json!({"serviceLinks": {}})).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::Protocol);
    }
}
