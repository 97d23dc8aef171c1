//! Where the worker may send requests when a login names a Keystone the operator did not
//! (`ALLOWED_AUTH_URLS="*"`): only public hosts. A worker cannot resolve DNS, so this judges
//! the URL as the runtime's URL parser will read it: literal addresses (every IPv4 spelling the
//! WHATWG parser accepts: `2130706433`, `0177.1`, `0x7f.0.0.1`; bracketed IPv6, IPv4-mapped and
//! other embedded IPv4 forms) by their address block, names by the suffixes that only ever name
//! local or internal hosts. A public name that resolves to a private address (DNS rebinding) is
//! left to the outbound network's own allow list (`workerd.capnp`; Cloudflare's edge cannot
//! reach private networks at all).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::api::ApiError;
use crate::config::{AuthTarget, Config};
use crate::session::Endpoints;

/// Longest reason from a host the operator did not name that is passed on to the page: enough
/// for OpenStack's one-line messages, too little to carry a reply of an internal service.
pub const SHORT_REASON_LEN: usize = 200;

/// Why a host is not reachable under `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// 127.0.0.0/8, ::1, `localhost` and `*.localhost` (RFC 6761).
    Loopback,
    /// 169.254.0.0/16 (the cloud metadata service, 169.254.169.254, is in it), fe80::/10.
    LinkLocal,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918), fc00::/7 (RFC 4193), fec0::/10 (site-local).
    Private,
    /// 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
    SharedAddressSpace,
    /// 0.0.0.0/8 and `::` ("this host"), which connect to the local machine.
    Unspecified,
    /// Multicast, broadcast, documentation, benchmarking and reserved blocks: never a cloud.
    Reserved,
    /// A name that only a local resolver answers: one label (search domains), `.local`,
    /// `.internal`, `.lan`, `.home.arpa`, `.localdomain`, `.intranet`, `.corp`.
    InternalName,
    /// Characters the URL parser would rewrite (percent escapes, non-ASCII, which IDNA maps:
    /// full-width digits become an address) or a host it would refuse.
    Unusual,
}

impl Refused {
    pub fn describe(self) -> &'static str {
        match self {
            Refused::Loopback => "a loopback address",
            Refused::LinkLocal => "a link-local address (the cloud metadata service lives there)",
            Refused::Private => "a private network address",
            Refused::SharedAddressSpace => "a carrier-grade NAT address (100.64.0.0/10)",
            Refused::Unspecified => "the unspecified address (this host)",
            Refused::Reserved => "a reserved, multicast or documentation address",
            Refused::InternalName => "a local or internal name",
            Refused::Unusual => "a host name the worker does not take as it is written",
        }
    }
}

/// Name suffixes that only resolve inside a site (RFC 6761, RFC 6762, RFC 8375, ICANN's
/// `.internal`, and the common private ones).
const INTERNAL_SUFFIXES: &[&str] =
    &["localhost", "local", "internal", "lan", "home.arpa", "localdomain", "intranet", "corp"];

/// The host of an http(s) URL (as `config::normalize_url` returns it): lower case, without
/// port; IPv6 with its brackets.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host =
        if authority.starts_with('[') { &authority[..=authority.find(']')?] } else { authority.split(':').next()? };
    (!host.is_empty()).then_some(host)
}

/// `Ok` for a host the worker may reach under `*`, else why not.
pub fn check_host(host: &str) -> Result<(), Refused> {
    if let Some(inner) = host.strip_prefix('[') {
        let addr: Ipv6Addr = inner.strip_suffix(']').and_then(|a| a.parse().ok()).ok_or(Refused::Unusual)?;
        return check_v6(addr);
    }
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err(Refused::Unusual);
    }
    let host = host.to_ascii_lowercase();
    if let Some(v4) = parse_ipv4(&host)? {
        return check_v4(v4);
    }
    let name = host.strip_suffix('.').unwrap_or(&host);
    if !name.contains('.') || INTERNAL_SUFFIXES.iter().any(|s| name == *s || name.ends_with(&format!(".{s}"))) {
        return Err(if name == "localhost" || name.ends_with(".localhost") {
            Refused::Loopback
        } else {
            Refused::InternalName
        });
    }
    Ok(())
}

/// The WHATWG URL standard's IPv4 parser: a host whose last label is a number is an address
/// (up to four parts, each decimal, `0x` hex or `0`-led octal, the last filling the remaining
/// bytes), and a malformed one is refused by the parser. `Ok(None)`: a name.
fn parse_ipv4(host: &str) -> Result<Option<Ipv4Addr>, Refused> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or("");
    let numeric = !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || parse_part(last).is_some());
    if !numeric {
        return Ok(None);
    }
    if parts.len() > 4 {
        return Err(Refused::Unusual);
    }
    let nums: Vec<u64> = parts.iter().map(|p| parse_part(p).ok_or(Refused::Unusual)).collect::<Result<_, _>>()?;
    let (head, last) = nums.split_at(nums.len() - 1);
    if head.iter().any(|n| *n > 255) || last[0] >= 1u64 << (8 * (5 - nums.len())) {
        return Err(Refused::Unusual);
    }
    let mut v = last[0];
    for (i, n) in head.iter().enumerate() {
        v += n << (8 * (3 - i));
    }
    Ok(Some(Ipv4Addr::from(v as u32)))
}

/// One part of a WHATWG IPv4 address; `None` when it is not a number.
fn parse_part(p: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return (radix != 10).then_some(0);
    }
    // longer than any 32-bit value in any radix: not an address part the parser keeps
    if digits.len() > 32 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn check_v4(a: Ipv4Addr) -> Result<(), Refused> {
    let [o0, o1, o2, _] = a.octets();
    match (o0, o1, o2) {
        (0, _, _) => Err(Refused::Unspecified),
        (127, _, _) => Err(Refused::Loopback),
        (169, 254, _) => Err(Refused::LinkLocal),
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Err(Refused::Private),
        (100, 64..=127, _) => Err(Refused::SharedAddressSpace),
        // 192.0.0/24 IETF, 192.0.2/24, 198.51.100/24, 203.0.113/24 documentation,
        // 198.18/15 benchmarking, 224/4 multicast, 240/4 reserved and broadcast
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) | (224..=255, _, _) => {
            Err(Refused::Reserved)
        }
        _ => Ok(()),
    }
}

fn check_v6(a: Ipv6Addr) -> Result<(), Refused> {
    let s = a.segments();
    if a.is_unspecified() {
        return Err(Refused::Unspecified);
    }
    if a.is_loopback() {
        return Err(Refused::Loopback);
    }
    // IPv4 inside IPv6: mapped (::ffff:0:0/96), compatible (::/96), NAT64 (64:ff9b::/96),
    // 6to4 (2002::/16): the IPv4 address is where the packet goes.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return check_v4(embedded(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return check_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return check_v4(embedded(s[1], s[2]));
    }
    match s[0] {
        0xfe80..=0xfebf => Err(Refused::LinkLocal),
        0xfc00..=0xfdff | 0xfec0..=0xfeff => Err(Refused::Private),
        0xff00..=0xffff => Err(Refused::Reserved),
        0x2001 if s[1] == 0x0db8 => Err(Refused::Reserved),
        _ => Ok(()),
    }
}

/// `Ok` when `url`'s host may be reached under `*`; else the 403 naming `what` and the reason.
pub fn check_url(what: &str, url: &str) -> Result<(), ApiError> {
    let host = url_host(url).ok_or_else(|| refused(what, url, Refused::Unusual))?;
    check_host(host).map_err(|why| refused(what, url, why))
}

fn refused(what: &str, url: &str, why: Refused) -> ApiError {
    ApiError::new(
        403,
        "destination_not_allowed",
        format!(
            "{what} {url} is {}; with ALLOWED_AUTH_URLS=\"*\" the worker reaches only public hosts \
             unless the operator lists the URL (ALLOWED_AUTH_URLS=\"*,{url}\")",
            why.describe()
        ),
    )
}

/// The Keystone a login names, checked: allowed by the settings (400 otherwise) and, when it
/// came in through `*`, a public host (403 `destination_not_allowed`), before any connection.
pub fn login_target(cfg: &Config, requested: Option<&str>) -> Result<AuthTarget, ApiError> {
    let target = cfg.resolve_auth_url(requested).map_err(ApiError::bad_request)?;
    if !target.named {
        check_url("auth_url", &target.url)?;
    }
    Ok(target)
}

/// The catalog endpoints a session will call, when its Keystone was reached through `*`: each
/// must be a public host too (a public Keystone must not point the worker inside).
pub fn check_endpoints(e: &Endpoints) -> Result<(), ApiError> {
    for (kind, url) in
        [("compute", &e.compute), ("image", &e.image), ("network", &e.network), ("block-storage", &e.volume)]
    {
        if let Some(u) = url {
            check_url(&format!("the catalog's {kind} endpoint"), u)?;
        }
    }
    Ok(())
}

/// An error passed on from a host the operator did not name: its status and at most
/// [`SHORT_REASON_LEN`] characters of OpenStack's message, nothing else of the reply.
pub fn from_unnamed_host(mut e: ApiError) -> ApiError {
    if e.upstream_status.is_some() {
        e.detail = short_reason(&e.detail);
    }
    e
}

/// `reason` cut to [`SHORT_REASON_LEN`] characters.
pub fn short_reason(reason: &str) -> String {
    match reason.char_indices().nth(SHORT_REASON_LEN) {
        Some((cut, _)) => format!("{}…", &reason[..cut]),
        None => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> Result<(), Refused> {
        check_host(url_host(url).unwrap())
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(url_host("https://Keystone.example.com:5000/v3"), Some("Keystone.example.com"));
        assert_eq!(url_host("http://[::1]:5000/v3"), Some("[::1]"));
        assert_eq!(url_host("http://10.0.0.1"), Some("10.0.0.1"));
        assert_eq!(url_host("nope"), None);
    }

    #[test]
    fn public_hosts_pass() {
        for u in [
            "https://keystone.example.com/v3",
            "https://8.8.8.8:5000",
            "http://[2606:4700::1111]/v3",
            "https://cloud.example.org./v3",
            "https://172.32.0.1",
            "https://100.128.0.1",
            "https://192.169.0.1",
            "https://1.1.1.1",
            "https://xn--bcher-kva.example",
        ] {
            assert_eq!(host(u), Ok(()), "{u}");
        }
    }

    #[test]
    fn every_refused_class() {
        use Refused::*;
        for (u, why) in [
            ("http://127.0.0.1:5000/v3", Loopback),
            ("http://127.255.255.254", Loopback),
            ("http://localhost:5000", Loopback),
            ("http://LOCALHOST.:5000", Loopback),
            ("http://keystone.localhost", Loopback),
            ("http://[::1]:5000", Loopback),
            ("http://169.254.169.254/latest/meta-data", LinkLocal),
            ("http://169.254.0.1", LinkLocal),
            ("http://[fe80::1]", LinkLocal),
            ("http://[febf::1]", LinkLocal),
            ("http://10.0.0.5:9292", Private),
            ("http://172.16.0.1", Private),
            ("http://172.31.255.255", Private),
            ("http://192.168.1.1", Private),
            ("http://[fc00::1]", Private),
            ("http://[fd12:3456::1]", Private),
            ("http://100.64.0.1", SharedAddressSpace),
            ("http://100.127.255.255", SharedAddressSpace),
            ("http://0.0.0.0:5000", Unspecified),
            ("http://0.1.2.3", Unspecified),
            ("http://[::]", Unspecified),
            ("http://224.0.0.1", Reserved),
            ("http://255.255.255.255", Reserved),
            ("http://[ff02::1]", Reserved),
            ("http://keystone:5000", InternalName),
            ("http://metadata", InternalName),
            ("http://printer.local", InternalName),
            ("http://metadata.google.internal", InternalName),
            ("http://router.home.arpa", InternalName),
            ("http://%31%32%37.0.0.1", Unusual),
            ("http://ｌｏｃａｌｈｏｓｔ", Unusual),
            ("http://１２７.０.０.１", Unusual),
        ] {
            assert_eq!(host(u), Err(why), "{u}");
        }
    }

    #[test]
    fn ipv4_spellings_the_url_parser_normalises() {
        for u in [
            "http://2130706433/",    // 127.0.0.1 as one decimal number
            "http://0177.0.0.1/",    // octal
            "http://0x7f.0.0.1/",    // hex
            "http://0x7f000001/",    // one hex number
            "http://017700000001/",  // one octal number
            "http://127.1/",         // two parts: the last fills three bytes
            "http://127.0.1/",       // three parts
            "http://127.0.0.1./",    // a trailing dot
            "http://0X7F.00.0.01/",  // mixed radixes
            "http://127.000.000.1/", // zero-led decimal is octal 0
        ] {
            assert_eq!(host(u), Err(Refused::Loopback), "{u}");
        }
        assert_eq!(host("http://3232235777/"), Err(Refused::Private), "192.168.1.1");
        assert_eq!(host("http://0xa9.0xfe.0xa9.0xfe/"), Err(Refused::LinkLocal), "169.254.169.254");
        assert_eq!(host("http://2852039166/"), Err(Refused::LinkLocal), "169.254.169.254");
        assert_eq!(host("http://0/"), Err(Refused::Unspecified));
        // numbers the parser refuses outright
        for u in
            ["http://256.0.0.1/", "http://1.2.3.4.5/", "http://4294967296/", "http://1.2.65536/", "http://09.1.1.1/"]
        {
            assert_eq!(host(u), Err(Refused::Unusual), "{u}");
        }
        // a name that merely contains digits is a name
        assert_eq!(host("http://1.2.3.example/"), Ok(()));
    }

    #[test]
    fn ipv6_with_ipv4_inside() {
        use Refused::*;
        for (u, why) in [
            ("http://[::ffff:127.0.0.1]/", Loopback),
            ("http://[::ffff:7f00:1]/", Loopback),
            ("http://[::ffff:169.254.169.254]/", LinkLocal),
            ("http://[::ffff:10.1.2.3]/", Private),
            ("http://[::10.1.2.3]/", Private),
            ("http://[64:ff9b::192.168.0.1]/", Private),
            ("http://[2002:c0a8:0101::1]/", Private),
            ("http://[::ffff:0.0.0.0]/", Unspecified),
        ] {
            assert_eq!(host(u), Err(why), "{u}");
        }
        assert_eq!(host("http://[::ffff:8.8.8.8]/"), Ok(()));
        assert_eq!(host("http://[::1%25eth0]/"), Err(Unusual), "zone ids are not URL syntax");
        assert_eq!(host("http://[not-an-address]/"), Err(Unusual));
    }

    #[test]
    fn endpoints_and_errors() {
        let mut e = Endpoints {
            compute: Some("https://nova.example.com/v2.1".into()),
            image: Some("https://glance.example.com".into()),
            ..Default::default()
        };
        assert!(check_endpoints(&e).is_ok());
        e.network = Some("http://10.0.0.5:9696".into());
        let err = check_endpoints(&e).unwrap_err();
        assert_eq!((err.status, err.error.as_str()), (403, "destination_not_allowed"));
        assert!(err
            .detail
            .starts_with("the catalog's network endpoint http://10.0.0.5:9696 is a private network address"));
        e.network = None;
        e.volume = Some("http://169.254.169.254/v3".into());
        let err = check_endpoints(&e).unwrap_err();
        assert!(err
            .detail
            .starts_with("the catalog's block-storage endpoint http://169.254.169.254/v3 is a link-local"));
        let err = check_url("auth_url", "http://127.0.0.1:5000/v3").unwrap_err();
        assert!(err.detail.contains("ALLOWED_AUTH_URLS=\"*,http://127.0.0.1:5000/v3\""), "{}", err.detail);
    }

    #[test]
    fn logins_under_star() {
        let m = |pairs: &'static [(&'static str, &'static str)]| {
            Config::from_lookup(&|k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap()
        };
        let star = m(&[("ALLOWED_AUTH_URLS", "*")]);
        for private in
            ["http://127.0.0.1:5000/v3", "http://2130706433:5000", "http://[::ffff:10.0.0.1]/v3", "http://localhost/v3"]
        {
            let e = login_target(&star, Some(private)).unwrap_err();
            assert_eq!((e.status, e.error.as_str()), (403, "destination_not_allowed"), "{private}");
        }
        let t = login_target(&star, Some("https://keystone.example.com/v3")).unwrap();
        assert!(!t.named);
        let listed = m(&[("ALLOWED_AUTH_URLS", "*,http://127.0.0.1:5000/v3")]);
        assert!(login_target(&listed, Some("http://127.0.0.1:5000/v3")).unwrap().named);
        assert_eq!(login_target(&listed, Some("http://127.0.0.1:5001/v3")).unwrap_err().status, 403);
        let pinned = m(&[("OS_AUTH_URL", "http://127.0.0.1:5000/v3")]);
        assert!(login_target(&pinned, None).unwrap().named);
        assert_eq!(login_target(&pinned, Some("https://keystone.example.com/v3")).unwrap_err().status, 400);
    }

    #[test]
    fn unnamed_hosts_get_a_short_reason() {
        let long = format!("{{\"error\": {{\"message\": \"{}\"}}}}", "é".repeat(1500));
        let e = from_unnamed_host(ApiError::upstream("keystone", 401, long.as_bytes(), true));
        assert_eq!(e.detail.chars().count(), SHORT_REASON_LEN + 1, "200 characters and an ellipsis");
        assert_eq!((e.status, e.upstream_status), (401, Some(401)));
        let own = from_unnamed_host(ApiError::bad_request("x".repeat(500)));
        assert_eq!(own.detail.len(), 500, "the worker's own errors are not cut");
        assert_eq!(short_reason("short"), "short");
    }
}
