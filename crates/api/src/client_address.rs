//! The address of the client behind a request: the TCP peer, or, when the peer is a trusted
//! proxy (`TrustedProxies`), the address that proxy saw, from the `for=` parameters of RFC 7239
//! `Forwarded` when the request has that header, else from `X-Forwarded-For`. Without trusted
//! proxies both are ignored: any client could write them.

use http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// Networks whose hosts may name the client in `Forwarded` or `X-Forwarded-For`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses addresses and CIDR networks (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`); the error
    /// names the first entry that is neither.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for e in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let bad = || format!("TrustedProxies: {e:?} is not an IP address or CIDR network");
            let (addr, len) = match e.split_once('/') {
                Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
                None => (e, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = len.unwrap_or(max);
            if len > max {
                return Err(bad());
            }
            nets.push((ip, len));
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether `ip` is in one of the networks (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|&(net, len)| match (canonical(net), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), len),
            _ => false,
        })
    }

    /// The client's address: `peer`, or, while the hops are trusted proxies, the entry each of
    /// them appended (to `Forwarded` if the request has it, else to `X-Forwarded-For`), from
    /// the right; the first untrusted entry is the client. An entry that is not an address
    /// (`unknown`, an obfuscated `_name`, garbage) ends the walk at the proxy that sent it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in hops(headers).into_iter().rev() {
            let Some(ip) = hop.and_then(parse_hop) else {
                return client;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// The forwarded hops, left to right: the `for=` of each `Forwarded` element (`None` for an
/// element without one), or else the `X-Forwarded-For` entries.
fn hops(headers: &HeaderMap) -> Vec<Option<&str>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
    };
    if headers.contains_key(http::header::FORWARDED) {
        return values(http::header::FORWARDED)
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| v.trim().trim_matches('"'))
                })
            })
            .collect();
    }
    values(http::header::HeaderName::from_static("x-forwarded-for"))
        .map(Some)
        .collect()
}

/// A forwarded entry: an address, with or without a port (`[v6]:port`, `[v6]`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether the first `len` bits of `a` and `b` are equal.
fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let (bytes, bits) = (usize::from(len / 8), len % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    bits == 0 || {
        let mask = 0xffu8 << (8 - bits);
        a[bytes] & mask == b[bytes] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("valid")
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn parses_addresses_and_networks_and_names_a_bad_entry() {
        let t = trusted(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", " "]);
        assert!(t.trusts(ip("10.200.3.4")));
        assert!(!t.trusts(ip("11.0.0.1")));
        assert!(t.trusts(ip("192.168.1.7")));
        assert!(!t.trusts(ip("192.168.1.8")));
        assert!(t.trusts(ip("fd12::1")));
        assert!(!t.trusts(ip("fe80::1")));
        assert!(t.trusts(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        let odd = trusted(&["172.16.0.0/12"]);
        assert!(odd.trusts(ip("172.31.255.255")));
        assert!(!odd.trusts(ip("172.32.0.0")));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.0/x", "::/129"] {
            let e = TrustedProxies::parse(&[bad.to_string()]).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn the_header_counts_only_through_trusted_hops() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = xff(&["198.51.100.9, 203.0.113.5", "10.0.0.2"]);
        // An untrusted peer: its header is ignored.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
        assert_eq!(t.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        // Trusted peer and trusted hop 10.0.0.2: the client is the next entry to the left.
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        // Ports and brackets.
        assert_eq!(
            t.client(ip("10.0.0.1"), &xff(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        assert_eq!(
            t.client(ip("10.0.0.1"), &xff(&["203.0.113.7:5000"])),
            ip("203.0.113.7")
        );
        // Garbage from the client's side stops at the proxy that forwarded it.
        assert_eq!(
            t.client(ip("10.0.0.1"), &xff(&["evil, 10.0.0.3"])),
            ip("10.0.0.3")
        );
        // No header: the trusted peer itself.
        assert_eq!(t.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("forwarded", v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn rfc7239_forwarded_names_the_hops_and_wins_over_x_forwarded_for() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = forwarded(&[
            "for=198.51.100.9;proto=https, For=\"[2001:db8::7]:4711\"",
            "for=10.0.0.2;by=10.0.0.1",
        ]);
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("2001:db8::7"));
        assert_eq!(
            t.client(ip("192.0.2.1"), &h),
            ip("192.0.2.1"),
            "untrusted peer"
        );
        assert_eq!(
            t.client(ip("10.0.0.1"), &forwarded(&["for=\"[2001:db8::8]\""])),
            ip("2001:db8::8")
        );
        // An obfuscated or unknown hop, or an element without `for`, ends the walk there.
        for stop in ["for=_hidden", "for=unknown", "proto=https"] {
            let h = forwarded(&[&format!("for=203.0.113.1, {stop}, for=10.0.0.3")]);
            assert_eq!(t.client(ip("10.0.0.1"), &h), ip("10.0.0.3"), "{stop}");
        }
        // With both headers, X-Forwarded-For is not read.
        let mut both = forwarded(&["for=203.0.113.8"]);
        both.append("x-forwarded-for", "198.51.100.1".parse().expect("header"));
        assert_eq!(t.client(ip("10.0.0.1"), &both), ip("203.0.113.8"));
    }
}
