//! Cerbos's cross-platform path helpers (`internal/conditions/crosspath`): Unix, Win32
//! drive and UNC paths are encoded as slash paths, handled with Go's `path/filepath`
//! (Unix flavour, ported below), and decoded back.

use cel::common::types::{LIST_TYPE, STRING_TYPE};
use cel::common::value::CowVal;
use cel::{DeclarationError, Env};

use super::errors::fn_error;
use super::funcs::{bool_val, str_arg, string_items, string_slice_error, string_val, FnResult};

// ---------------------------------------------------------------------------------------------
// Go path/filepath (Unix)

pub(crate) fn clean(path: &str) -> String {
    let p = path.as_bytes();
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0usize, 0usize);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        // An empty element, or a `.` element: skip it.
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            r += 1;
        } else if p[r] == b'.' && p.get(r + 1) == Some(&b'.') && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                // Back up to the previous separator (Go keeps a write index `w`).
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_owned();
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let path = path.trim_end_matches('/');
    let last = match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    };
    if last.is_empty() {
        "/".to_owned()
    } else {
        last.to_owned()
    }
}

fn dir(path: &str) -> String {
    let upto = path.rfind('/').map(|i| i + 1).unwrap_or(0);
    clean(&path[..upto])
}

fn ext(path: &str) -> String {
    for (i, b) in path.bytes().enumerate().rev() {
        if b == b'/' {
            break;
        }
        if b == b'.' {
            return path[i..].to_owned();
        }
    }
    String::new()
}

fn join2(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

fn rel(basepath: &str, targpath: &str) -> Result<String, String> {
    let mut base = clean(basepath);
    let mut targ = clean(targpath);
    if targ == base {
        return Ok(".".to_owned());
    }
    if base == "." {
        base = String::new();
    }
    let _ = &mut targ;
    let base_slashed = base.starts_with('/');
    let targ_slashed = targ.starts_with('/');
    if base_slashed != targ_slashed {
        return Err(format!("Rel: can't make {targpath} relative to {basepath}"));
    }
    let (b, t) = (base.as_bytes(), targ.as_bytes());
    let (bl, tl) = (b.len(), t.len());
    let (mut b0, mut bi, mut t0, mut ti) = (0, 0, 0, 0);
    loop {
        while bi < bl && b[bi] != b'/' {
            bi += 1;
        }
        while ti < tl && t[ti] != b'/' {
            ti += 1;
        }
        if t[t0..ti] != b[b0..bi] {
            break;
        }
        if bi < bl {
            bi += 1;
        }
        if ti < tl {
            ti += 1;
        }
        b0 = bi;
        t0 = ti;
        // Both exhausted means equal paths, handled above; guard against looping.
        if bi >= bl && ti >= tl {
            break;
        }
    }
    if &b[b0..bi] == b".." {
        return Err(format!("Rel: can't make {targpath} relative to {basepath}"));
    }
    if b0 != bl {
        let seps = b[b0..bl].iter().filter(|&&c| c == b'/').count();
        let mut out = String::from("..");
        for _ in 0..seps {
            out.push_str("/..");
        }
        if t0 != tl {
            out.push('/');
            out.push_str(&targ[t0..]);
        }
        return Ok(out);
    }
    Ok(targ[t0..].to_owned())
}

const BAD_PATTERN: &str = "syntax error in pattern";

/// Go's `filepath.Match` on Unix: `*`, `?`, `[...]` and `\` escapes; `*` and `?` never
/// match `/`.
pub(crate) fn glob_match(pattern: &str, name: &str) -> Result<bool, &'static str> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'outer: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok, err) = match_chunk(chunk, name);
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if let Some(e) = err {
            return Err(e);
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok, err) = match_chunk(chunk, &name[i + 1..]);
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'outer;
                }
                if let Some(e) = err {
                    return Err(e);
                }
                i += 1;
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            if let (_, _, Some(e)) = match_chunk(chunk, b"") {
                return Err(e);
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut inrange = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => inrange = true,
            b']' => inrange = false,
            b'*' if !inrange => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

fn decode_rune(s: &[u8]) -> (Option<char>, usize) {
    if s.is_empty() {
        return (None, 0);
    }
    let len = match s[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return (None, 1),
    };
    match s.get(..len).and_then(|b| std::str::from_utf8(b).ok()).and_then(|x| x.chars().next()) {
        Some(c) => (Some(c), len),
        None => (None, 1),
    }
}

fn get_esc(chunk: &[u8]) -> Result<(char, &[u8]), &'static str> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BAD_PATTERN);
    }
    let mut chunk = chunk;
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BAD_PATTERN);
        }
    }
    let (r, n) = decode_rune(chunk);
    let r = r.ok_or(BAD_PATTERN)?;
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BAD_PATTERN);
    }
    Ok((r, rest))
}

fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> (&'a [u8], bool, Option<&'static str>) {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = '\u{0}';
                if !failed {
                    let (c, n) = decode_rune(s);
                    r = c.unwrap_or('\u{fffd}');
                    s = &s[n.max(1).min(s.len())..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = match get_esc(chunk) {
                        Ok(x) => x,
                        Err(e) => return (b"", false, Some(e)),
                    };
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        match get_esc(&chunk[1..]) {
                            Ok((h, rest)) => {
                                hi = h;
                                chunk = rest;
                            }
                            Err(e) => return (b"", false, Some(e)),
                        }
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n.max(1).min(s.len())..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let c = if c == b'\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(&c) => c,
                        None => return (b"", false, Some(BAD_PATTERN)),
                    }
                } else {
                    c
                };
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        (b"", false, None)
    } else {
        (s, true, None)
    }
}

// ---------------------------------------------------------------------------------------------
// crosspath

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unknown,
    Drive,
    Unc,
}

struct Encoded {
    value: String,
    kind: Kind,
    win32: bool,
    root: bool,
}

const UNSUPPORTED_WIN32: &str = "unsupported Win32 path";

fn is_unc(path: &str) -> bool {
    path.starts_with("\\\\")
}

fn is_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() > 1 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

fn to_slash(p: &str) -> String {
    p.replace('\\', "/")
}

fn to_backslash(p: &str) -> String {
    p.replace('/', "\\")
}

fn encode(path: &str) -> Result<Encoded, &'static str> {
    let win32 = path.contains('\\');
    let (mut value, kind, mut root);
    if is_unc(path) {
        kind = Kind::Unc;
        value = to_slash(path);
        root = path[2..].splitn(3, '\\').count() == 2;
    } else if is_drive(path) {
        if !win32 && path.len() > 2 {
            return Err(UNSUPPORTED_WIN32);
        }
        kind = Kind::Drive;
        value = to_slash(&format!("\\{path}"));
        root = path.len() == 2 || path.len() == 3;
    } else {
        kind = Kind::Unknown;
        root = false;
        if win32 {
            value = to_slash(path);
        } else {
            value = path.to_owned();
            if value == "/" {
                root = true;
            }
        }
    }
    value = clean(&value);
    let _ = &mut root;
    Ok(Encoded { value, kind, win32, root })
}

fn decode(e: &Encoded) -> String {
    match e.kind {
        Kind::Unc => format!("\\{}", to_backslash(&e.value)),
        Kind::Drive => {
            let s = to_backslash(&e.value);
            s.strip_prefix('\\').map(str::to_owned).unwrap_or(s)
        }
        Kind::Unknown if e.win32 => to_backslash(&e.value),
        Kind::Unknown => e.value.clone(),
    }
}

fn encode_err(path: &str, e: &str) -> String {
    format!("failed to encode path {path}: {e}")
}

pub(crate) fn cp_base(path: &str) -> Result<String, String> {
    let e = encode(path).map_err(|e| encode_err(path, e))?;
    Ok(base(&e.value))
}

pub(crate) fn cp_dir(path: &str) -> Result<String, String> {
    let mut e = encode(path).map_err(|e| encode_err(path, e))?;
    match e.kind {
        Kind::Unc | Kind::Drive if e.root => {
            let d = decode(&e);
            Ok(if e.kind == Kind::Drive { format!("{d}\\") } else { d })
        }
        Kind::Unc | Kind::Drive => {
            let idx = e.value.rfind('/').unwrap_or(0);
            e.value.truncate(idx);
            Ok(decode(&e))
        }
        Kind::Unknown if e.win32 => {
            // Go slices at LastIndex, which is -1 without a separator: it would panic, so
            // there is always one here (win32 means a backslash was present).
            let idx = e.value.rfind('/').unwrap_or(0);
            e.value.truncate(idx);
            Ok(decode(&e))
        }
        Kind::Unknown => {
            e.value = dir(&e.value);
            Ok(decode(&e))
        }
    }
}

pub(crate) fn cp_ext(path: &str) -> Result<String, String> {
    let e = encode(path).map_err(|e| encode_err(path, e))?;
    Ok(ext(&e.value))
}

pub(crate) fn cp_join(paths: &[String]) -> Result<String, String> {
    match paths.len() {
        0 => Ok(String::new()),
        1 => Ok(paths[0].clone()),
        _ => {
            let mut result = encode(&paths[0]).map_err(|e| format!("failed to encode first path {}: {e}", paths[0]))?;
            for p in &paths[1..] {
                let e = encode(p).map_err(|e| encode_err(p, e))?;
                result.value = join2(&result.value, &e.value);
            }
            Ok(decode(&result))
        }
    }
}

pub(crate) fn cp_match(path: &str, pattern: &str) -> Result<bool, String> {
    let p = encode(path).map_err(|e| encode_err(path, e))?;
    let pat = encode(pattern).map_err(|e| format!("failed to encode pattern {pattern}: {e}"))?;
    glob_match(&pat.value, &p.value).map_err(|e| format!("failed to match pattern {pattern:?} on path {path:?}: {e}"))
}

pub(crate) fn cp_rel(base_path: &str, target_path: &str) -> Result<String, String> {
    let b = encode(base_path).map_err(|e| format!("failed to encode base path {base_path}: {e}"))?;
    let mut t = encode(target_path).map_err(|e| format!("failed to encode target path {target_path}: {e}"))?;
    t.value = rel(&b.value, &t.value).map_err(|e| format!("failed to determine relative path of {target_path}: {e}"))?;
    if t.value == "." || t.value == ".." {
        return Ok(t.value);
    }
    if t.kind == Kind::Unc && !t.value.starts_with('\\') {
        return Ok(to_backslash(&t.value));
    }
    Ok(decode(&t))
}

pub(crate) fn cp_volume_name(path: &str) -> String {
    if is_unc(path) {
        let subs: Vec<&str> = path[2..].splitn(3, '\\').collect();
        if subs.len() > 1 && !subs[0].is_empty() && !subs[1].is_empty() {
            return format!("\\\\{}\\{}", subs[0], subs[1]);
        }
    } else if is_drive(path) {
        return path[..2].to_owned();
    }
    String::new()
}

fn path_has_prefix(path: &str, prefix: &str) -> Result<bool, String> {
    if prefix == path {
        return Ok(true);
    }
    let r = cp_rel(prefix, path)?;
    Ok(!r.is_empty() && !r.starts_with('.') && !r.starts_with('/'))
}

// ---------------------------------------------------------------------------------------------
// CEL bindings

fn s<'a>(v: &'a CowVal<'_, '_>) -> &'a str {
    str_arg(v.as_ref()).unwrap_or_default()
}

fn base_path<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    cp_base(s(&args[0])).map(string_val).map_err(fn_error)
}
fn dir_path<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    cp_dir(s(&args[0])).map(string_val).map_err(fn_error)
}
fn ext_path<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    cp_ext(s(&args[0])).map(string_val).map_err(fn_error)
}
fn volume_name<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    Ok(string_val(cp_volume_name(s(&args[0]))))
}
fn join_path<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let items = string_items(args[0].as_ref()).ok_or_else(|| string_slice_error(args[0].as_ref()))?;
    cp_join(&items).map(string_val).map_err(fn_error)
}
fn rel_path<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    cp_rel(s(&args[0]), s(&args[1])).map(string_val).map_err(fn_error)
}
fn has_prefix<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    path_has_prefix(s(&args[0]), s(&args[1])).map(bool_val).map_err(fn_error)
}
fn path_match<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    cp_match(s(&args[0]), s(&args[1])).map(bool_val).map_err(fn_error)
}
fn path_match_any_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> FnResult<'b, 'v> {
    let patterns = string_items(args[1].as_ref()).ok_or_else(|| string_slice_error(args[1].as_ref()))?;
    for p in &patterns {
        if cp_match(s(&args[0]), p).map_err(fn_error)? {
            return Ok(bool_val(true));
        }
    }
    Ok(bool_val(false))
}

pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let st = || STRING_TYPE;
    env.add_overload("basePath", "basePath_string", vec![st()], base_path)?;
    env.add_overload("dirPath", "dirPath_string", vec![st()], dir_path)?;
    env.add_overload("extPath", "extPath_string", vec![st()], ext_path)?;
    env.add_overload("volumeName", "volumeName_string", vec![st()], volume_name)?;
    env.add_overload("joinPath", "joinPath_stringarray", vec![LIST_TYPE], join_path)?;
    env.add_overload("relPath", "relPath_string_string", vec![st(), st()], rel_path)?;
    for (name, f) in [("pathHasPrefix", has_prefix as super::funcs::Fn), ("pathMatch", path_match)] {
        env.add_overload(name, &format!("{name}_overload"), vec![st(), st()], f)?;
        env.add_member_overload(name, &format!("{name}_member_overload"), st(), vec![st()], f)?;
    }
    env.add_overload("pathMatchAnyOf", "pathMatchAnyOf_overload", vec![st(), LIST_TYPE], path_match_any_of)?;
    env.add_member_overload("pathMatchAnyOf", "pathMatchAnyOf_member_overload", st(), vec![LIST_TYPE], path_match_any_of)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_clean() {
        for (i, o) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("/../abc", "/abc"),
        ] {
            assert_eq!(clean(i), o, "clean({i:?})");
        }
    }

    #[test]
    fn go_match() {
        for (pat, s, m, err) in [
            ("abc", "abc", true, false),
            ("*", "abc", true, false),
            ("*c", "abc", true, false),
            ("a*", "a", true, false),
            ("a*", "abc", true, false),
            ("a*", "ab/c", false, false),
            ("a*/b", "abc/b", true, false),
            ("a*/b", "a/c/b", false, false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true, false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true, false),
            ("a*b?c*x", "abxbbxdbxebxczzy", false, false),
            ("ab[c]", "abc", true, false),
            ("ab[b-d]", "abc", true, false),
            ("ab[e-g]", "abc", false, false),
            ("ab[^c]", "abc", false, false),
            ("ab[^b-d]", "abc", false, false),
            ("ab[^e-g]", "abc", true, false),
            ("a\\*b", "a*b", true, false),
            ("a\\*b", "ab", false, false),
            ("a?b", "a☺b", true, false),
            ("a[^a]b", "a☺b", true, false),
            ("a???b", "a☺b", false, false),
            ("a[^a][^a][^a]b", "a☺b", false, false),
            ("[a-ζ]*", "α", true, false),
            ("*[a-ζ]", "A", false, false),
            ("a?b", "a/b", false, false),
            ("a*b", "a/b", false, false),
            ("[\\]a]", "]", true, false),
            ("[\\-]", "-", true, false),
            ("[x\\-]", "x", true, false),
            ("[x\\-]", "-", true, false),
            ("[x\\-]", "z", false, false),
            ("[\\-x]", "x", true, false),
            ("[\\-x]", "-", true, false),
            ("[\\-x]", "a", false, false),
            ("[]a]", "]", false, true),
            ("[-]", "-", false, true),
            ("[x-]", "x", false, true),
            ("[x-]", "-", false, true),
            ("[x-]", "z", false, true),
            ("[-x]", "x", false, true),
            ("[-x]", "-", false, true),
            ("[-x]", "a", false, true),
            ("\\", "a", false, true),
            ("[a-b-c]", "a", false, true),
            ("[", "a", false, true),
            ("[^", "a", false, true),
            ("[^bc", "a", false, true),
            ("a[", "a", false, true),
            ("a[", "ab", false, true),
            ("a[", "x", false, true),
            ("a/b[", "x", false, true),
            ("*x", "xxx", true, false),
        ] {
            let got = glob_match(pat, s);
            assert_eq!(got.is_err(), err, "match({pat:?}, {s:?}) error");
            if !err {
                assert_eq!(got.unwrap(), m, "match({pat:?}, {s:?})");
            }
        }
    }

    #[test]
    fn go_rel() {
        for (root, path, want) in [
            ("a/b", "a/b", "."),
            ("a/b/.", "a/b", "."),
            ("a/b", "a/b/.", "."),
            ("./a/b", "a/b", "."),
            ("a/b", "./a/b", "."),
            ("ab/cd", "ab/cde", "../cde"),
            ("ab/cd", "ab/c", "../c"),
            ("a/b", "a/b/c/d", "c/d"),
            ("a/b", "a/b/../c", "../c"),
            ("a/b/../c", "a/b", "../b"),
            ("a/b/c", "a/c/d", "../../c/d"),
            ("a/b", "c/d", "../../c/d"),
            ("a/b/c/d", "a/b", "../.."),
            ("a/b/c/d", "a/b/", "../.."),
            ("a/b/c/d/", "a/b", "../.."),
            ("a/b/c/d/", "a/b/", "../.."),
            ("../../a/b", "../../a/b/c/d", "c/d"),
            ("/a/b", "/a/b", "."),
            ("/a/b/.", "/a/b", "."),
            ("/a/b", "/a/b/.", "."),
            ("/ab/cd", "/ab/cde", "../cde"),
            ("/ab/cd", "/ab/c", "../c"),
            ("/a/b", "/a/b/c/d", "c/d"),
            ("/a/b", "/a/b/../c", "../c"),
            ("/a/b/../c", "/a/b", "../b"),
            ("/a/b/c", "/a/c/d", "../../c/d"),
            ("/a/b", "/c/d", "../../c/d"),
            ("/a/b/c/d", "/a/b", "../.."),
            ("/a/b/c/d", "/a/b/", "../.."),
            ("/a/b/c/d/", "/a/b", "../.."),
            ("/a/b/c/d/", "/a/b/", "../.."),
            ("/../../a/b", "/../../a/b/c/d", "c/d"),
            (".", "a/b", "a/b"),
            (".", "..", ".."),
        ] {
            assert_eq!(rel(root, path).as_deref(), Ok(want), "rel({root:?}, {path:?})");
        }
        for (root, path) in [("..", "."), ("..", "a"), ("../..", ".."), ("a", "/a"), ("/a", "a")] {
            assert!(rel(root, path).is_err(), "rel({root:?}, {path:?}) should fail");
        }
    }

    #[test]
    fn crosspath() {
        assert_eq!(cp_base("/a/b/c.txt").unwrap(), "c.txt");
        assert_eq!(cp_base("C:\\a\\b.txt").unwrap(), "b.txt");
        assert_eq!(cp_base("\\\\host\\share\\x\\y").unwrap(), "y");
        assert_eq!(cp_dir("/a/b/c.txt").unwrap(), "/a/b");
        assert_eq!(cp_dir("C:\\a\\b.txt").unwrap(), "C:\\a");
        assert_eq!(cp_dir("C:\\").unwrap(), "C:\\");
        assert_eq!(cp_dir("\\\\host\\share").unwrap(), "\\\\host\\share");
        assert_eq!(cp_dir("\\\\host\\share\\dir\\f").unwrap(), "\\\\host\\share\\dir");
        assert_eq!(cp_dir("a\\b\\c").unwrap(), "a\\b");
        assert!(cp_dir("C:foo").is_err());
        assert_eq!(cp_ext("/a/b.tar.gz").unwrap(), ".gz");
        assert_eq!(cp_join(&["a".into(), "b".into(), "../c".into()]).unwrap(), "a/c");
        assert_eq!(cp_join(&["C:\\a".into(), "b".into()]).unwrap(), "C:\\a\\b");
        assert_eq!(cp_volume_name("C:\\foo"), "C:");
        assert_eq!(cp_volume_name("\\\\host\\share\\foo"), "\\\\host\\share");
        assert_eq!(cp_volume_name("/foo"), "");
        assert!(cp_match("/a/b/c", "/a/*/c").unwrap());
        assert!(!cp_match("/a/b/x/c", "/a/*/c").unwrap());
        assert!(cp_match("C:\\a\\b", "C:\\a\\*").unwrap());
        assert_eq!(cp_rel("/a", "/a/b/c").unwrap(), "b/c");
        assert_eq!(cp_rel("C:\\a", "C:\\a\\b\\c").unwrap(), "b\\c");
        assert!(path_has_prefix("/a/b/c", "/a/b").unwrap());
        assert!(path_has_prefix("/a/b", "/a/b").unwrap());
        assert!(!path_has_prefix("/a/bc", "/a/b").unwrap());
        assert!(!path_has_prefix("/a", "/a/b").unwrap());
    }

    /// The cases of Cerbos's `crosspath_test.go`.
    #[test]
    fn cerbos_crosspath_cases() {
        for p in [
            "/",
            "/path/to/dir",
            "path/to/dir",
            "/path/to/file.txt",
            r"\\host\share",
            r"\\host\share\path\to\dir",
            r"\\host\share\dir",
            r"\\host\share\file.txt",
            "C:",
            r"C:\path\to\dir",
            r"C:\path\to\file.txt",
            r"path\to\dir",
            r"\path\to\dir",
            r"..\path\to\dir",
            r"path\to\file.txt",
        ] {
            assert_eq!(decode(&encode(p).unwrap()), p, "encode/decode {p}");
        }
        for (p, want) in [
            (".", "."),
            ("..", ".."),
            ("/path/to/dir", "dir"),
            (r"\\host\share\dir", "dir"),
            (r"\\host\share\dir\", "dir"),
            (r"C:\\path\\to\\dir", "dir"),
            (r"C:\\path\\to\\dir\\", "dir"),
            (r"C:\\path\\to\\..\\dir", "dir"),
        ] {
            assert_eq!(cp_base(p).unwrap(), want, "base {p}");
        }
        for (p, want) in [
            ("/path/to/dir", Some("/path/to")),
            (r"\\host\share\path\to\dir", Some(r"\\host\share\path\to")),
            (r"\\host\share\dir", Some(r"\\host\share")),
            (r"C:\path\to\dir", Some(r"C:\path\to")),
            ("/path/to/file.txt", Some("/path/to")),
            (r"\\host\share\path\to\file.txt", Some(r"\\host\share\path\to")),
            (r"\\host\share\file.txt", Some(r"\\host\share")),
            (r"C:\path\to\file.txt", Some(r"C:\path\to")),
            ("/", Some("/")),
            (r"\\host\share", Some(r"\\host\share")),
            (r"C:\", Some(r"C:\")),
            ("C:", Some(r"C:\")),
            ("C:.", None),
            ("C:dir", None),
            ("./path/to/dir", Some("path/to")),
            (r"path\to\dir", Some(r"path\to")),
            ("../path/to/dir", Some("../path/to")),
            (r"..\path\to\dir", Some(r"..\path\to")),
            ("/path/to/dir/", Some("/path/to")),
            (r"\\host\share\path\to\dir\", Some(r"\\host\share\path\to")),
            (r"\\host\share\dir\", Some(r"\\host\share")),
            (r"C:\path\to\dir\", Some(r"C:\path\to")),
            ("/path//to/file.txt", Some("/path/to")),
            (r"\\host\share\path\\to\file.txt", Some(r"\\host\share\path\to")),
            (r"\\host\share\\file.txt", Some(r"\\host\share")),
            (r"C:\path\\to\file.txt", Some(r"C:\path\to")),
        ] {
            match want {
                Some(w) => assert_eq!(cp_dir(p).as_deref(), Ok(w), "dir {p}"),
                None => assert!(cp_dir(p).is_err(), "dir {p} should fail"),
            }
        }
        for (p, want) in [("/path/to/file.txt", ".txt"), (r"\\host\share\file.txt", ".txt"), (r"C:\path\to\file.txt", ".txt")] {
            assert_eq!(cp_ext(p).unwrap(), want, "ext {p}");
        }
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        for (ps, want) in [
            (v(&[]), ""),
            (v(&[""]), ""),
            (v(&["/path", "to", "dir"]), "/path/to/dir"),
            (v(&["/path", "to", "dir", ".."]), "/path/to"),
            (v(&["path", "to", "dir"]), "path/to/dir"),
            (v(&["path", "to", "dir", ".."]), "path/to"),
            (v(&["/path", "to", "file.txt"]), "/path/to/file.txt"),
            (v(&["/"]), "/"),
            (v(&[r"\\host", "share", "path", "to", "dir"]), r"\\host\share\path\to\dir"),
            (v(&[r"\\host", "share", "path", "to", "dir", ".."]), r"\\host\share\path\to"),
            (v(&[r"\\host", "share", "file.txt"]), r"\\host\share\file.txt"),
            (v(&[r"\\host", "share"]), r"\\host\share"),
            (v(&["C:", "path", "to", "dir"]), r"C:\path\to\dir"),
            (v(&["C:", "path", "to", "dir", ".."]), r"C:\path\to"),
            (v(&[r"\path", "to", "dir"]), r"\path\to\dir"),
            (v(&[r"\path", "to", "dir", ".."]), r"\path\to"),
            (v(&["C:", "path", "to", "file.txt"]), r"C:\path\to\file.txt"),
            (v(&[r"C:\"]), r"C:\"),
        ] {
            assert_eq!(cp_join(&ps).unwrap(), want, "join {ps:?}");
        }
        for (p, pat, want) in [
            ("/path/to/file.zip", "/path/to/*.zip", true),
            ("/path/to/../file.zip", "/path/to/../*.zip", true),
            ("/path/to/file.zip", "/path/to/*.txt", false),
            (r"\\host\share\file.zip", r"\\host\share\*.zip", true),
            (r"\\host\share\..\file.zip", r"\\host\share\..\*.zip", true),
            (r"\\host\share\file.zip", r"\\host\share\*.txt", false),
            (r"C:\path\to\file.zip", r"C:\path\to\*.zip", true),
            (r"C:\path\to\..\file.zip", r"C:\path\to\..\*.zip", true),
            (r"C:\path\to\file.zip", r"C:\path\to\*.txt", false),
            (r"D:\path\to\file.zip", r"C:\path\to\*.zip", false),
        ] {
            assert_eq!(cp_match(p, pat), Ok(want), "match {p} {pat}");
        }
        for (a, b, want) in [
            ("/path/to/dir", "/path/to/dir", "."),
            ("/path/to/dir", "/path/to", ".."),
            ("/path/to", "/path/to/file.txt", "file.txt"),
            ("/path/to/dir", "/path/to/other_dir", "../other_dir"),
            ("/path/to/../dir", "/path/to/../other_dir", "../other_dir"),
            ("path/to/dir", "path/to/other_dir", "../other_dir"),
            (r"\\host\share\path\to\dir", r"\\host\share\path\to\dir", "."),
            (r"\\host\share\path\to\dir", r"\\host\share\path\to", ".."),
            (r"\\host\share", r"\\host\share\file.txt", "file.txt"),
            (r"\\host\share\object", r"\\host\share\other_object", r"..\other_object"),
            (r"\\host\share\path\to\..\dir\object", r"\\host\share\path\to\..\dir\other_object", r"..\other_object"),
            (r"C:\path\to\dir", r"C:\path\to\dir", "."),
            (r"C:\path\to\dir", r"C:\path\to", ".."),
            (r"C:\path\to", r"C:\path\to\file.txt", "file.txt"),
            (r"C:\path\to\dir", r"C:\path\to\other_dir", r"..\other_dir"),
            (r"C:\path\to\..\dir", r"C:\path\to\..\other_dir", r"..\other_dir"),
            (r"path\to\dir", r"path\to\other_dir", r"..\other_dir"),
        ] {
            assert_eq!(cp_rel(a, b).as_deref(), Ok(want), "rel {a} {b}");
        }
        for (p, want) in [
            ("/path/to/dir", ""),
            ("/", ""),
            (r"\\host\share\dir", r"\\host\share"),
            (r"\\host\share", r"\\host\share"),
            (r"C:\path\to\dir", "C:"),
            (r"C:\", "C:"),
            ("C:", "C:"),
        ] {
            assert_eq!(cp_volume_name(p), want, "volumeName {p}");
        }
    }

    #[test]
    fn path_functions_in_cel() {
        use crate::cel::tests_util::check;
        use serde_json::json;
        check(r#"basePath("/a/b.txt") + "|" + dirPath("/a/b.txt") + "|" + extPath("/a/b.txt")"#, json!("b.txt|/a|.txt"));
        check(r#"joinPath(["a", "b"]) + "|" + relPath("/a", "/a/b") + "|" + volumeName("C:\\x")"#, json!("a/b|b|C:"));
        check(r#"pathHasPrefix("/a/b", "/a") && "/a/b".pathHasPrefix("/a") && !pathHasPrefix("/ab", "/a")"#, json!(true));
        check(r#"pathMatch("/a/b.txt", "/a/*.txt") && "/a/b.txt".pathMatch("/a/*")"#, json!(true));
        check(r#"pathMatchAnyOf("/a/b.txt", ["/x/*", "/a/*.txt"]) && !"/a/b".pathMatchAnyOf(["/x/*"])"#, json!(true));
    }
}
