//! Where services live and who may receive the token (protocol.md §3.1, §3.3).
//!
//! Lookup precedence: `services.override` > the catalog (filled by the catalog module) >
//! `services.discovery`. The token goes to a URL only when it lies under one of those service
//! bases, or (with `validateDomains`) when it is https on an allowed domain. Unlike the
//! official SDK's substring match, a domain must match whole labels (`webex.com` allows
//! `x.webex.com`, not `webex.com.evil.test`).

use std::collections::BTreeMap;
use std::sync::RwLock;

/// Service URLs by name, from every source.
#[derive(Debug, Default)]
pub struct Services {
    discovery: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
    catalog: RwLock<BTreeMap<String, String>>,
    allowed_domains: Vec<String>,
    validate_domains: bool,
}

impl Services {
    /// Services from the config's discovery and override maps.
    pub fn new(
        discovery: BTreeMap<String, String>,
        overrides: BTreeMap<String, String>,
        allowed_domains: Vec<String>,
        validate_domains: bool,
    ) -> Services {
        Services { discovery, overrides, catalog: RwLock::default(), allowed_domains, validate_domains }
    }

    /// The base URL of a service (no trailing slash), by precedence.
    pub fn url(&self, name: &str) -> Option<String> {
        let found = self
            .overrides
            .get(name)
            .cloned()
            .or_else(|| self.catalog.read().ok()?.get(name).cloned())
            .or_else(|| self.discovery.get(name).cloned())?;
        Some(found.trim_end_matches('/').to_owned())
    }

    /// Replace the catalog's entries (the catalog module calls this).
    pub fn set_catalog(&self, entries: BTreeMap<String, String>) {
        if let Ok(mut c) = self.catalog.write() {
            *c = entries;
        }
    }

    /// Whether a request to `url` may carry the token.
    pub fn may_receive_token(&self, url: &str) -> bool {
        let Ok(target) = url::Url::parse(url) else { return false };
        let in_config = self.overrides.values().chain(self.discovery.values()).any(|base| under_base(&target, base));
        if in_config || self.catalog.read().is_ok_and(|c| c.values().any(|base| under_base(&target, base))) {
            return true;
        }
        if self.validate_domains
            && target.scheme() == "https"
            && let Some(host) = target.host_str()
        {
            return self.allowed_domains.iter().any(|d| host == d || host.ends_with(&format!(".{d}")));
        }
        false
    }
}

/// Whether `target` is `base` or below it: same scheme, host and port, path under base's
/// path at a segment boundary.
fn under_base(target: &url::Url, base: &str) -> bool {
    // Cheap string checks first: this runs for every request against every service base.
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if target.scheme() != scheme || target.host_str() != Some(host) {
        return false;
    }
    let Ok(base) = url::Url::parse(base) else { return false };
    if target.port_or_known_default() != base.port_or_known_default() {
        return false;
    }
    let prefix = base.path().trim_end_matches('/');
    let path = target.path();
    path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> Services {
        let discovery = BTreeMap::from([("hydra".to_string(), "http://127.0.0.1:8080/v1".to_string())]);
        let overrides = BTreeMap::from([("locus".to_string(), "https://locus.test/api/".to_string())]);
        Services::new(discovery, overrides, vec!["webex.com".into()], true)
    }

    #[test]
    fn precedence_and_trailing_slash() {
        let s = services();
        assert_eq!(s.url("hydra").unwrap(), "http://127.0.0.1:8080/v1");
        assert_eq!(s.url("locus").unwrap(), "https://locus.test/api");
        s.set_catalog(BTreeMap::from([
            ("hydra".to_string(), "http://127.0.0.1:9090/v1".to_string()),
            ("locus".to_string(), "https://other.test/".to_string()),
        ]));
        assert_eq!(s.url("hydra").unwrap(), "http://127.0.0.1:9090/v1");
        assert_eq!(s.url("locus").unwrap(), "https://locus.test/api");
        assert_eq!(s.url("wdm"), None);
    }

    #[test]
    fn token_only_under_service_bases_and_allowed_domains() {
        let s = services();
        assert!(s.may_receive_token("http://127.0.0.1:8080/v1/rooms?max=1"));
        assert!(s.may_receive_token("http://127.0.0.1:8080/v1"));
        assert!(!s.may_receive_token("http://127.0.0.1:8080/v10/rooms"));
        assert!(!s.may_receive_token("http://127.0.0.1:8081/v1/rooms"));
        assert!(!s.may_receive_token("https://127.0.0.1:8080/v1/rooms"));
        assert!(s.may_receive_token("https://locus.test/api/loci"));
        assert!(s.may_receive_token("https://a.webex.com/x"));
        assert!(s.may_receive_token("https://webex.com/x"));
        assert!(!s.may_receive_token("http://a.webex.com/x"), "plain http never gets the token by domain");
        assert!(!s.may_receive_token("https://webex.com.evil.test/x"));
        assert!(!s.may_receive_token("https://notwebex.com/x"));
        assert!(!s.may_receive_token("not a url"));
    }

    #[test]
    fn without_validate_domains_only_services() {
        let s = Services::new(BTreeMap::new(), BTreeMap::new(), vec!["webex.com".into()], false);
        assert!(!s.may_receive_token("https://a.webex.com/x"));
    }
}
