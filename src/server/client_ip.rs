//! The client's address, computed in one place for the rate limits, the audit trail and the
//! log lines: the TCP peer, or, when the peer is one of the configured `trusted_proxies`, the
//! address that proxy names in `X-Forwarded-For` (or, without that header, `Forwarded`).
//! Forwarding headers from any other peer are ignored: anyone can send them.

use std::net::IpAddr;

use anyhow::Context;
use axum::http::HeaderMap;
use ipnet::IpNet;

/// A `trusted_proxies` entry: an address (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(text: &str) -> anyhow::Result<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    let ip: IpAddr = text.parse().with_context(|| {
        format!(
            "trusted_proxies (SYNAPSE_TRUSTED_PROXIES): {text:?} is not an address or a network \
             like 10.0.0.5 or 10.0.0.0/8"
        )
    })?;
    Ok(IpNet::from(ip))
}

/// Whether the TCP peer is one of the trusted reverse proxies, whose forwarding headers
/// (`X-Forwarded-Proto`, `X-Forwarded-Host`) may then be believed too.
pub fn from_trusted_proxy(peer: Option<IpAddr>, proxies: &[IpNet]) -> bool {
    peer.is_some_and(|ip| trusted(ip, proxies))
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    proxies.iter().any(|net| net.contains(&ip))
}

/// An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:5678`, `::1`,
/// or quoted in `Forwarded`. `unknown` and obfuscated identifiers are `None`.
fn forwarded_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    // IPv4 with a port.
    let (host, _port) = text.rsplit_once(':')?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The hops the headers name, nearest last, as the proxies appended them; `None` entries
/// could not be read.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::to_string)
            .collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().map(|hop| forwarded_address(hop)).collect();
    }
    values("forwarded")
        .iter()
        .map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| forwarded_address(value))?
            })
        })
        .collect()
}

/// The client's address. From a trusted proxy, the hops are read from the nearest back, past
/// every trusted proxy: the first address that is not one is the client. A hop that cannot be
/// read stops the walk at the last trusted hop, which is then taken as the client.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !trusted(peer, proxies) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_chain(headers).into_iter().rev() {
        let Some(hop) = hop.map(|ip| ip.to_canonical()) else {
            break;
        };
        client = hop;
        if !trusted(hop, proxies) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies = vec![
            parse_proxy("10.0.0.0/8").unwrap(),
            parse_proxy("::1").unwrap(),
        ];
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // Not a proxy: the header is the client's own invention.
        assert_eq!(
            client_ip(Some(ip("192.0.2.1")), &forged, &proxies),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.1.2.3")), &forged, &proxies),
            Some(ip("203.0.113.9"))
        );
        // A forged first hop before the proxy's own: the hop the proxy saw wins.
        let appended = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(
            client_ip(Some(ip("10.1.2.3")), &appended, &proxies),
            Some(ip("203.0.113.9"))
        );
        let rfc = headers(&[(
            "forwarded",
            "for=198.51.100.1;proto=https, for=\"[2001:db8::17]:4711\"",
        )]);
        assert_eq!(
            client_ip(Some(ip("::1")), &rfc, &proxies),
            Some(ip("2001:db8::17"))
        );
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &unknown, &proxies),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &headers(&[]), &proxies),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(forwarded_address("192.0.2.4:8080"), Some(ip("192.0.2.4")));
        assert!(parse_proxy("proxy.local").is_err());
    }
}
