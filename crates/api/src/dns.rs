//! A small DNS client (RFC 1035) for domain validation: A, AAAA and TXT queries over UDP, retried
//! over TCP when the answer is truncated, sent to a configured name server or to those of
//! `/etc/resolv.conf`. No cache: a user who just published a record wants a fresh answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub const A: u16 = 1;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;
const OPT: u16 = 41;
/// The UDP payload size we advertise (EDNS0), the usual safe value.
const UDP_SIZE: u16 = 1232;

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
    /// No name server answered in time.
    Timeout(SocketAddr),
    /// The name server answered with an error code (2 SERVFAIL, 5 REFUSED, ...).
    Server(SocketAddr, u8),
    /// No name server is configured.
    NoServer,
    /// A network error or a malformed answer.
    Other(String),
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsError::NoSuchName => write!(f, "no such name"),
            DnsError::Timeout(s) => write!(f, "the DNS server {s} did not answer in time"),
            DnsError::Server(s, code) => {
                let name = match code {
                    1 => "FORMERR",
                    2 => "SERVFAIL",
                    4 => "NOTIMP",
                    5 => "REFUSED",
                    _ => "an error",
                };
                write!(f, "the DNS server {s} answered {name} (rcode {code})")
            }
            DnsError::NoServer => write!(f, "no DNS server is configured"),
            DnsError::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for DnsError {}

/// One record of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// The character strings of one TXT record, joined.
    Txt(String),
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub truncated: bool,
    pub rcode: u8,
    pub records: Vec<Record>,
}

/// Sends queries to name servers in order until one answers.
#[derive(Debug, Clone)]
pub struct Resolver {
    servers: Vec<SocketAddr>,
    timeout: Duration,
}

impl Resolver {
    /// `server` is `ip` or `ip:port` (port 53 by default); empty means the name servers of
    /// `/etc/resolv.conf`. `timeout` bounds each attempt on one server.
    pub fn new(server: &str, timeout: Duration) -> Result<Self, String> {
        let server = server.trim();
        let servers = if server.is_empty() {
            system_servers()
        } else {
            vec![parse_server(server)?]
        };
        Ok(Resolver { servers, timeout })
    }

    /// The name servers used.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// The TXT records of `name` (none when the name exists without TXT records).
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        Ok(self
            .lookup(name, TXT)
            .await?
            .into_iter()
            .filter_map(|r| match r {
                Record::Txt(t) => Some(t),
                _ => None,
            })
            .collect())
    }

    /// The IPv4 and IPv6 addresses of `name`.
    pub async fn ips(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        let (v4, v6) = tokio::join!(self.lookup(name, A), self.lookup(name, AAAA));
        let mut out = Vec::new();
        for r in v4.iter().chain(v6.iter()).flatten() {
            match r {
                Record::A(ip) => out.push(IpAddr::V4(*ip)),
                Record::Aaaa(ip) => out.push(IpAddr::V6(*ip)),
                Record::Txt(_) => {}
            }
        }
        match (v4, v6) {
            _ if !out.is_empty() => Ok(out),
            (Err(e), _) => Err(e),
            (_, Err(e)) => Err(e),
            _ => Err(DnsError::Other(format!("{name} has no A or AAAA record"))),
        }
    }

    /// The records of type `qtype` of `name`, from the first server that answers.
    pub async fn lookup(&self, name: &str, qtype: u16) -> Result<Vec<Record>, DnsError> {
        let mut last = DnsError::NoServer;
        for server in &self.servers {
            match tokio::time::timeout(self.timeout, ask(*server, name, qtype)).await {
                Err(_) => last = DnsError::Timeout(*server),
                Ok(Err(e @ (DnsError::Timeout(_) | DnsError::Other(_)))) => last = e,
                Ok(Err(e)) => return Err(e),
                Ok(Ok(a)) => {
                    return match a.rcode {
                        0 => Ok(a.records),
                        3 => Err(DnsError::NoSuchName),
                        c => Err(DnsError::Server(*server, c)),
                    }
                }
            }
        }
        Err(last)
    }
}

/// `ip` or `ip:port`, IPv6 in brackets with a port.
fn parse_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("DNS server {s:?} is not an IP address with an optional port"))
}

/// The `nameserver` lines of `/etc/resolv.conf`.
fn system_servers() -> Vec<SocketAddr> {
    std::fs::read_to_string("/etc/resolv.conf")
        .map(|t| resolv_conf_servers(&t))
        .unwrap_or_default()
}

fn resolv_conf_servers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next()).flatten()
        })
        // Link-local IPv6 with a zone (`fe80::1%eth0`) cannot be parsed without the zone id.
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// One query to one server: UDP, then TCP if the answer was truncated.
async fn ask(server: SocketAddr, name: &str, qtype: u16) -> Result<Answer, DnsError> {
    let id = u16::from_be_bytes(castellan_domain::id::random_bytes::<2>());
    let q = query(id, name, qtype)?;
    let net = |e: std::io::Error| DnsError::Other(format!("DNS server {server}: {e}"));
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).await.map_err(net)?;
    sock.connect(server).await.map_err(net)?;
    sock.send(&q).await.map_err(net)?;
    let mut buf = vec![0u8; 4096];
    let answer = loop {
        let n = sock.recv(&mut buf).await.map_err(net)?;
        // Datagrams with another id are stale or spoofed: keep waiting.
        if n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
            break parse(&buf[..n], id, qtype)?;
        }
    };
    if !answer.truncated {
        return Ok(answer);
    }
    let mut tcp = TcpStream::connect(server).await.map_err(net)?;
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    tcp.write_all(&framed).await.map_err(net)?;
    let len = tcp.read_u16().await.map_err(net)? as usize;
    let mut buf = vec![0u8; len];
    tcp.read_exact(&mut buf).await.map_err(net)?;
    parse(&buf, id, qtype)
}

/// A query message: recursion desired, one question, an EDNS0 OPT record.
pub fn query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    let name = name.trim_end_matches('.');
    if name.is_empty() || name.len() > 253 {
        return Err(DnsError::Other(format!("invalid DNS name {name:?}")));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(DnsError::Other(format!("invalid DNS name {name:?}")));
        }
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    // OPT: root name, type 41, class = UDP payload size, TTL 0, no options.
    m.push(0);
    m.extend_from_slice(&OPT.to_be_bytes());
    m.extend_from_slice(&UDP_SIZE.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    Ok(m)
}

/// Parses an answer to query `id`, keeping the records of type `qtype` (CNAMEs a recursive
/// server followed are skipped; their targets' records are in the same answer section).
pub fn parse(m: &[u8], id: u16, qtype: u16) -> Result<Answer, DnsError> {
    let bad = || DnsError::Other("malformed DNS answer".into());
    if m.len() < 12 {
        return Err(bad());
    }
    let u16_at = |i: usize| -> Result<u16, DnsError> {
        m.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(bad)
    };
    if u16_at(0)? != id || m[2] & 0x80 == 0 {
        return Err(DnsError::Other("DNS answer to another query".into()));
    }
    let truncated = m[2] & 0x02 != 0;
    let rcode = m[3] & 0x0f;
    let (qd, an) = (u16_at(4)?, u16_at(6)?);
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(m, pos).ok_or_else(bad)? + 4;
    }
    let mut records = Vec::new();
    for _ in 0..an {
        pos = skip_name(m, pos).ok_or_else(bad)?;
        let rtype = u16_at(pos)?;
        let len = u16_at(pos + 8)? as usize;
        let data = m.get(pos + 10..pos + 10 + len).ok_or_else(bad)?;
        pos += 10 + len;
        if rtype != qtype {
            continue;
        }
        match (rtype, data.len()) {
            (A, 4) => records.push(Record::A(Ipv4Addr::new(data[0], data[1], data[2], data[3]))),
            (AAAA, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(data);
                records.push(Record::Aaaa(Ipv6Addr::from(b)));
            }
            (TXT, _) => {
                let mut text = Vec::new();
                let mut i = 0;
                while i < data.len() {
                    let n = data[i] as usize;
                    text.extend_from_slice(data.get(i + 1..i + 1 + n).ok_or_else(bad)?);
                    i += 1 + n;
                }
                records.push(Record::Txt(String::from_utf8_lossy(&text).into_owned()));
            }
            _ => return Err(bad()),
        }
    }
    Ok(Answer {
        truncated,
        rcode,
        records,
    })
}

/// The position after the (possibly compressed) name at `pos`.
fn skip_name(m: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *m.get(pos)? as usize;
        match len & 0xc0 {
            0xc0 => return (pos + 2 <= m.len()).then_some(pos + 2),
            0 if len == 0 => return Some(pos + 1),
            0 => pos += 1 + len,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding() {
        let q = query(0xabcd, "_zitadel-challenge.example.com.", TXT).expect("query");
        let mut want = vec![0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        want.extend_from_slice(b"\x12_zitadel-challenge\x07example\x03com\x00\x00\x10\x00\x01");
        want.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(q, want);
        assert!(query(1, "a..b", A).is_err());
        assert!(query(1, &"x".repeat(64), A).is_err());
    }

    /// An answer as a recursive server sends it (captured from `dig TXT
    /// _zitadel-challenge.example.com`): the question, a CNAME, two TXT records (one of two
    /// character strings) with compressed names, and an OPT record in the additional section.
    const TXT_ANSWER: &[u8] = b"\x4e\x21\x81\x80\x00\x01\x00\x03\x00\x00\x00\x01\
\x12_zitadel-challenge\x07example\x03com\x00\x00\x10\x00\x01\
\xc0\x0c\x00\x05\x00\x01\x00\x00\x01\x2c\x00\x08\x05other\xc0\x1f\
\xc0\x3c\x00\x10\x00\x01\x00\x00\x01\x2c\x00\x0d\x0ctok3nV4lue42\
\xc0\x3c\x00\x10\x00\x01\x00\x00\x01\x2c\x00\x0a\x03abc\x05defgh\
\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00";

    #[test]
    fn parses_txt_answer_with_compression() {
        let a = parse(TXT_ANSWER, 0x4e21, TXT).expect("parse");
        assert_eq!(a.rcode, 0);
        assert!(!a.truncated);
        assert_eq!(
            a.records,
            vec![
                Record::Txt("tok3nV4lue42".into()),
                Record::Txt("abcdefgh".into())
            ]
        );
        // Another id is not our answer.
        assert!(parse(TXT_ANSWER, 1, TXT).is_err());
        // Cut anywhere, it is rejected, never a panic.
        for n in 0..TXT_ANSWER.len() - 11 {
            let _ = parse(&TXT_ANSWER[..n], 0x4e21, TXT);
        }
    }

    #[test]
    fn parses_addresses_and_nxdomain() {
        let mut m = b"\x00\x07\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x03www\x01a\x02ch\x00\x00\x01\x00\x01".to_vec();
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01");
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x02");
        let a = parse(&m, 7, A).expect("parse");
        assert_eq!(
            a.records,
            vec![
                Record::A(Ipv4Addr::new(127, 0, 0, 1)),
                Record::A(Ipv4Addr::new(10, 0, 0, 2))
            ]
        );
        let nx = b"\x00\x08\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x01a\x02ch\x00\x00\x01\x00\x01";
        let a = parse(nx, 8, A).expect("parse");
        assert_eq!((a.rcode, a.records.len()), (3, 0));
    }

    /// A truncated UDP answer is asked again over TCP on the same port.
    #[tokio::test]
    async fn truncated_answers_are_retried_over_tcp() {
        // A free UDP port can be taken for TCP (a listener or a connection of another test):
        // take another pair then.
        let mut pair = None;
        for _ in 0..50 {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("udp");
            let addr = udp.local_addr().expect("addr");
            if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
                pair = Some((udp, addr, tcp));
                break;
            }
        }
        let (udp, addr, tcp) = pair.expect("a port free for UDP and TCP");
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                // The question sent back with QR + TC set and no records.
                let mut m = buf[..n].to_vec();
                m[2] = 0x83;
                m[3] = 0x80;
                let _ = udp.send_to(&m, peer).await;
            }
        });
        tokio::spawn(async move {
            while let Ok((mut c, _)) = tcp.accept().await {
                let len = c.read_u16().await.unwrap_or(0) as usize;
                let mut q = vec![0u8; len];
                if c.read_exact(&mut q).await.is_err() {
                    continue;
                }
                let mut m = TXT_ANSWER.to_vec();
                m[0] = q[0];
                m[1] = q[1];
                let mut framed = (m.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&m);
                let _ = c.write_all(&framed).await;
            }
        });
        let r = Resolver::new(&addr.to_string(), Duration::from_secs(2)).expect("resolver");
        let txt = r.txt("_zitadel-challenge.example.com").await.expect("txt");
        assert_eq!(txt, vec!["tok3nV4lue42".to_string(), "abcdefgh".into()]);
    }

    #[test]
    fn resolv_conf() {
        let s = resolv_conf_servers(
            "# c\nsearch x\nnameserver 10.0.0.1\nnameserver ::1\nnameserver fe80::1%eth0\n",
        );
        assert_eq!(
            s,
            vec![
                "10.0.0.1:53".parse().expect("a"),
                "[::1]:53".parse().expect("b")
            ]
        );
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Ok("127.0.0.1:5353".parse().expect("c"))
        );
        assert_eq!(parse_server("::1"), Ok("[::1]:53".parse().expect("d")));
        assert!(parse_server("dns.example.com").is_err());
    }
}
