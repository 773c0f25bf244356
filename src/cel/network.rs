//! IP addresses: Cerbos's `inIPAddrRange` (Go `net.ParseIP`/`net.ParseCIDR`) and cel-go's
//! network extension (`ip()`, `cidr()`, `isIP`, `isCIDR`, `ip.isCanonical`, ...), which is
//! built on Go's stricter `net/netip`.

use std::any::Any;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cel::common::types::{CelInt, Type, STRING_TYPE};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{DeclarationError, Env};

use super::errors::fn_error;
use super::funcs::{bool_val, str_arg, string_val, FnResult};

pub(crate) static IP_TYPE: Type = Type::new_unspecified_type("net.IP");
pub(crate) static CIDR_TYPE: Type = Type::new_unspecified_type("net.CIDR");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ip(pub IpAddr);

/// An address with a prefix length, not masked (`192.168.0.5/24` keeps its address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub addr: IpAddr,
    pub bits: u8,
}

macro_rules! opaque_val {
    ($t:ty, $ty:expr) => {
        impl Val for $t {
            fn get_type(&self) -> &Type {
                &$ty
            }
            fn cel_type() -> &'static Type {
                &$ty
            }
            fn equals(&self, other: &dyn Val) -> bool {
                other.downcast_ref::<$t>().is_some_and(|o| o == self)
            }
            fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
                Box::new(*self)
            }
            fn as_any(&self) -> Option<&dyn Any> {
                Some(self)
            }
        }
        impl StaticVal for $t {}
    };
}
opaque_val!(Ip, IP_TYPE);
opaque_val!(Cidr, CIDR_TYPE);

// ---------------------------------------------------------------------------------------------
// Parsing

/// Go `netip.ParseAddr` plus cel-go's refusal of zones and IPv4-mapped IPv6 addresses.
fn parse_ip_addr(raw: &str) -> Result<IpAddr, String> {
    if raw.contains('%') {
        return Err(format!("IP address {raw:?} with zone value is not allowed"));
    }
    let addr: IpAddr =
        raw.parse().map_err(|_| format!("IP Address {raw:?} parse error during conversion from string: ParseAddr({raw:?}): unable to parse IP"))?;
    if let IpAddr::V6(v6) = addr {
        if v6.to_ipv4_mapped().is_some() {
            return Err(format!("IPv4-mapped IPv6 address {raw:?} is not allowed"));
        }
    }
    Ok(addr)
}

fn parse_prefix(raw: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = raw.split_once('/')?;
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) || (bits.len() > 1 && bits.starts_with('0')) {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

/// Go `netip.ParsePrefix` plus cel-go's checks.
fn parse_cidr(raw: &str) -> Result<Cidr, String> {
    if raw.contains('%') {
        return Err(format!("CIDR {raw:?} with zone value is not allowed"));
    }
    let (addr, bits) =
        parse_prefix(raw).ok_or_else(|| format!("CIDR {raw:?} parse error during conversion from string: netip.ParsePrefix({raw:?}): invalid prefix"))?;
    if let IpAddr::V6(v6) = addr {
        if v6.to_ipv4_mapped().is_some() {
            return Err(format!("IPv4-mapped IPv6 address {raw:?} is not allowed"));
        }
    }
    Ok(Cidr { addr, bits })
}

fn mask(addr: IpAddr, bits: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

fn prefix_contains(c: &Cidr, ip: IpAddr) -> bool {
    c.addr.is_ipv4() == ip.is_ipv4() && mask(ip, c.bits) == mask(c.addr, c.bits)
}

// ---------------------------------------------------------------------------------------------
// Cerbos's inIPAddrRange (package net semantics: IPv4-mapped addresses match IPv4 ranges)

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn in_ip_addr_range<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let ip = str_arg(args[0].as_ref()).unwrap_or_default();
    let cidr = str_arg(args[1].as_ref()).unwrap_or_default();
    let addr: IpAddr = ip.parse().map_err(|_| fn_error(format!("invalid IP address: {ip}")))?;
    let (net, bits) = parse_prefix(cidr).ok_or_else(|| fn_error(format!("invalid CIDR address: {cidr}")))?;
    // net.IPNet works on 4-byte forms whenever the network is IPv4 (or IPv4-mapped).
    let (net, bits) = match net {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() && bits >= 96 => (unmap(net), bits - 96),
        _ => (net, bits),
    };
    let addr = if net.is_ipv4() { unmap(addr) } else { addr };
    Ok(bool_val(prefix_contains(&Cidr { addr: net, bits }, addr)))
}

// ---------------------------------------------------------------------------------------------
// cel-go network extension

fn ip_of(v: &CowVal<'_, '_>) -> IpAddr {
    v.downcast_ref::<Ip>().map(|i| i.0).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn cidr_of(v: &CowVal<'_, '_>) -> Cidr {
    v.downcast_ref::<Cidr>().copied().unwrap_or(Cidr { addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED), bits: 0 })
}

fn ip_string(ip: IpAddr) -> String {
    ip.to_string()
}

fn ip_fn<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let s = str_arg(args[0].as_ref()).unwrap_or_default();
    parse_ip_addr(s).map(|a| CowVal::owned(Ip(a))).map_err(fn_error)
}

fn cidr_fn<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let s = str_arg(args[0].as_ref()).unwrap_or_default();
    parse_cidr(s).map(CowVal::owned).map_err(fn_error)
}

fn is_ip<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(parse_ip_addr(str_arg(args[0].as_ref()).unwrap_or_default()).is_ok()))
}

fn is_cidr<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(bool_val(parse_cidr(str_arg(args[0].as_ref()).unwrap_or_default()).is_ok()))
}

fn is_canonical<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let s = str_arg(args[0].as_ref()).unwrap_or_default();
    let a = parse_ip_addr(s).map_err(fn_error)?;
    Ok(bool_val(ip_string(a) == s))
}

fn family<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(if ip_of(&args[0]).is_ipv4() { 4 } else { 6 })))
}

fn is_loopback_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] == 127,
        IpAddr::V6(a) => a == Ipv6Addr::LOCALHOST,
    }
}

fn is_multicast_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] & 0xf0 == 0xe0,
        IpAddr::V6(a) => a.octets()[0] == 0xff,
    }
}

fn is_link_local_unicast_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] == 169 && a.octets()[1] == 254,
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn is_link_local_multicast_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] == 224 && a.octets()[1] == 0 && a.octets()[2] == 0,
        IpAddr::V6(a) => a.segments()[0] & 0xff0f == 0xff02,
    }
}

/// Go's `netip.Addr.IsGlobalUnicast`: private and ULA addresses count as global.
fn is_global_unicast_addr(ip: IpAddr) -> bool {
    if let IpAddr::V4(a) = ip {
        if a == Ipv4Addr::UNSPECIFIED || a == Ipv4Addr::BROADCAST {
            return false;
        }
    }
    !ip.is_unspecified() && !is_loopback_addr(ip) && !is_multicast_addr(ip) && !is_link_local_unicast_addr(ip)
}

macro_rules! ip_predicate {
    ($name:ident, $f:expr) => {
        fn $name<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
            let f: fn(IpAddr) -> bool = $f;
            Ok(bool_val(f(ip_of(&args[0]))))
        }
    };
}
ip_predicate!(is_loopback, is_loopback_addr);
ip_predicate!(is_global_unicast, is_global_unicast_addr);
ip_predicate!(is_link_local_multicast, is_link_local_multicast_addr);
ip_predicate!(is_link_local_unicast, is_link_local_unicast_addr);
ip_predicate!(is_unspecified, |ip| ip.is_unspecified());

fn ip_to_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(string_val(ip_string(ip_of(&args[0]))))
}

fn cidr_to_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let c = cidr_of(&args[0]);
    Ok(string_val(format!("{}/{}", ip_string(c.addr), c.bits)))
}

fn cidr_ip<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(CowVal::owned(Ip(cidr_of(&args[0]).addr)))
}

fn masked<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let c = cidr_of(&args[0]);
    Ok(CowVal::owned(Cidr { addr: mask(c.addr, c.bits), bits: c.bits }))
}

fn is_mask<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let c = cidr_of(&args[0]);
    Ok(bool_val(mask(c.addr, c.bits) == c.addr))
}

fn prefix_length<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(i64::from(cidr_of(&args[0]).bits))))
}

fn contains_ip<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let c = cidr_of(&args[0]);
    let ip = match str_arg(args[1].as_ref()) {
        Some(s) => parse_ip_addr(s).map_err(fn_error)?,
        None => ip_of(&args[1]),
    };
    Ok(bool_val(prefix_contains(&c, ip)))
}

/// Go: `parent.Overlaps(child) && parent.Bits() <= child.Bits()`.
fn contains_cidr<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let parent = cidr_of(&args[0]);
    let child = match str_arg(args[1].as_ref()) {
        Some(s) => parse_cidr(s).map_err(fn_error)?,
        None => cidr_of(&args[1]),
    };
    let overlaps = parent.addr.is_ipv4() == child.addr.is_ipv4() && {
        let bits = parent.bits.min(child.bits);
        mask(parent.addr, bits) == mask(child.addr, bits)
    };
    Ok(bool_val(overlaps && parent.bits <= child.bits))
}

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let ip = || IP_TYPE.to_owned();
    let cidr = || CIDR_TYPE.to_owned();
    env.add_type(ip())?;
    env.add_type(cidr())?;
    env.add_member_overload("inIPAddrRange", "inIPAddrRange_string", STRING_TYPE, vec![STRING_TYPE], in_ip_addr_range)?;
    env.add_overload("ip", "string_to_ip", vec![STRING_TYPE], ip_fn)?;
    env.add_member_overload("ip", "cidr_ip", cidr(), vec![], cidr_ip)?;
    env.add_overload("cidr", "string_to_cidr", vec![STRING_TYPE], cidr_fn)?;
    env.add_overload("string", "ip_to_string", vec![ip()], ip_to_string)?;
    env.add_overload("string", "cidr_to_string", vec![cidr()], cidr_to_string)?;
    env.add_overload("isIP", "is_ip", vec![STRING_TYPE], is_ip)?;
    env.add_overload("isCIDR", "is_cidr", vec![STRING_TYPE], is_cidr)?;
    env.add_overload("ip.isCanonical", "ip_is_canonical", vec![STRING_TYPE], is_canonical)?;
    env.add_member_overload("family", "ip_family", ip(), vec![], family)?;
    env.add_member_overload("isLoopback", "ip_is_loopback", ip(), vec![], is_loopback)?;
    env.add_member_overload("isGlobalUnicast", "ip_is_global_unicast", ip(), vec![], is_global_unicast)?;
    env.add_member_overload("isLinkLocalMulticast", "ip_is_link_local_multicast", ip(), vec![], is_link_local_multicast)?;
    env.add_member_overload("isLinkLocalUnicast", "ip_is_link_local_unicast", ip(), vec![], is_link_local_unicast)?;
    env.add_member_overload("isUnspecified", "ip_is_unspecified", ip(), vec![], is_unspecified)?;
    env.add_member_overload("containsIP", "cidr_contains_ip_ip", cidr(), vec![ip()], contains_ip)?;
    env.add_member_overload("containsIP", "cidr_contains_ip_string", cidr(), vec![STRING_TYPE], contains_ip)?;
    env.add_member_overload("containsCIDR", "cidr_contains_cidr", cidr(), vec![cidr()], contains_cidr)?;
    env.add_member_overload("containsCIDR", "cidr_contains_cidr_string", cidr(), vec![STRING_TYPE], contains_cidr)?;
    env.add_member_overload("isMask", "cidr_is_mask", cidr(), vec![], is_mask)?;
    env.add_member_overload("masked", "cidr_masked", cidr(), vec![], masked)?;
    env.add_member_overload("prefixLength", "cidr_prefix_length", cidr(), vec![], prefix_length)?;
    Ok(())
}

/// Compile-time check of `ip("...")` literals (cel-go's network AST validator).
pub(crate) fn check_ip_literal(s: &str) -> Result<(), String> {
    parse_ip_addr(s).map(|_| ())
}

/// Compile-time check of `cidr("...")` literals.
pub(crate) fn check_cidr_literal(s: &str) -> Result<(), String> {
    parse_cidr(s).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::cel::tests_util::{check, check_err};
    use serde_json::json;

    #[test]
    fn in_ip_addr_range() {
        check(r#""192.168.0.5".inIPAddrRange("192.168.0.0/24")"#, json!(true));
        check(r#""192.168.1.5".inIPAddrRange("192.168.0.0/24")"#, json!(false));
        check(r#""2001:0db8:0000:0000:0000:0000:1000:0000".inIPAddrRange("2001:db8::/48")"#, json!(true));
        check(r#""::ffff:192.168.0.5".inIPAddrRange("192.168.0.0/24")"#, json!(true));
        check(r#""10.0.0.1".inIPAddrRange("2001:db8::/48")"#, json!(false));
        check_err(r#""nope".inIPAddrRange("192.168.0.0/24")"#, "invalid IP address: nope");
        check_err(r#""10.0.0.1".inIPAddrRange("192.168.0.0")"#, "invalid CIDR address: 192.168.0.0");
    }

    #[test]
    fn network_extension() {
        check(r#"isIP("10.0.0.1") && !isIP("10.0.0") && !isIP("::ffff:1.2.3.4")"#, json!(true));
        check(r#"ip("10.0.0.1").family() == 4 && ip("::1").family() == 6"#, json!(true));
        check(r#"ip("127.0.0.1").isLoopback() && ip("::1").isLoopback()"#, json!(true));
        check(r#"ip("10.0.0.1").isGlobalUnicast() && !ip("255.255.255.255").isGlobalUnicast()"#, json!(true));
        check(r#"ip("fe80::1").isLinkLocalUnicast() && ip("ff02::1").isLinkLocalMulticast()"#, json!(true));
        check(r#"ip("0.0.0.0").isUnspecified()"#, json!(true));
        check(r#"ip.isCanonical("2001:db8::1") && !ip.isCanonical("2001:0db8::1")"#, json!(true));
        check(r#"string(ip("2001:0db8:0:0::1"))"#, json!("2001:db8::1"));
        check(r#"cidr("192.168.0.0/24").containsIP("192.168.0.9")"#, json!(true));
        check(r#"cidr("192.168.0.0/24").containsIP(ip("192.168.1.9"))"#, json!(false));
        check(r#"cidr("192.168.0.0/8").containsCIDR(cidr("192.168.1.0/24"))"#, json!(true));
        check(r#"cidr("192.168.1.0/24").containsCIDR("192.168.0.0/16")"#, json!(false));
        check(r#"cidr("192.168.0.0/24").isMask() && !cidr("192.168.0.1/24").isMask()"#, json!(true));
        check(r#"string(cidr("192.168.0.1/24").masked())"#, json!("192.168.0.0/24"));
        check(r#"string(cidr("192.168.0.1/24").ip())"#, json!("192.168.0.1"));
        check(r#"cidr("::1/128").prefixLength()"#, json!(128));
        check(r#"ip("10.0.0.1") == ip("10.0.0.1")"#, json!(true));
        check_err(r#"ip(R.attr.bad)"#, r#"IP Address "1.2.3" parse error during conversion from string: ParseAddr("1.2.3"): unable to parse IP"#);
    }
}
