//! The one HTTP client used for JWKS, discovery, introspection and tokeninfo:
//! HTTPS only (plain HTTP only to loopback), no redirects, bounded time and size.
use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::Url;

use super::error::ConfigError;

/// Limits for outbound requests.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whole-request timeout (connect + headers + body).
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions { timeout: Duration::from_secs(5), max_body_bytes: 512 * 1024 }
    }
}

/// A response that was read within the limits.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// `max-age` from `Cache-Control`, unless `no-store`/`no-cache` say otherwise.
    pub max_age: Option<Duration>,
}

/// Parse and vet an endpoint URL: `https`, or `http` to a loopback address.
pub fn endpoint(url: &str, field: &str) -> Result<Url, ConfigError> {
    let parsed = Url::parse(url).map_err(|e| ConfigError::new(format!("{field}: not a valid URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => return Err(ConfigError::new(format!("{field}: must use https (plain http is allowed only to loopback)"))),
        other => return Err(ConfigError::new(format!("{field}: unsupported URL scheme {}", super::error::quoted(other)))),
    }
    if parsed.host_str().is_none() {
        return Err(ConfigError::new(format!("{field}: URL has no host")));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError::new(format!("{field}: credentials in the URL are not accepted")));
    }
    Ok(parsed)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A blocking HTTP client with warden's limits.
#[derive(Clone)]
pub struct HttpClient {
    client: Client,
    /// The deadline of one whole exchange: connect, headers and body.
    timeout: Duration,
    max_body_bytes: usize,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("max_body_bytes", &self.max_body_bytes).finish()
    }
}

impl HttpClient {
    pub fn new(options: &HttpOptions) -> Result<HttpClient, ConfigError> {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .https_only(false) // enforced per URL by `endpoint`, so loopback http works in tests
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::new(format!("cannot create the HTTP client: {e}")))?;
        Ok(HttpClient { client, timeout: options.timeout, max_body_bytes: options.max_body_bytes })
    }

    pub fn get(&self, url: &Url) -> Result<Response, String> {
        self.send(self.client.get(url.clone()).header("accept", "application/json"), url)
    }

    pub fn post_form(&self, url: &Url, form: &[(&str, &str)], basic_auth: Option<(&str, &str)>) -> Result<Response, String> {
        let mut req = self.client.post(url.clone()).header("accept", "application/json").form(form);
        if let Some((user, password)) = basic_auth {
            req = req.basic_auth(client_credential(user), Some(client_credential(password)));
        }
        self.send(req, url)
    }

    /// One exchange under one deadline. The client's own timeout restarts at every read of the
    /// body (reqwest's blocking reads), so a server trickling bytes could hold a caller for
    /// far longer; a per-request timeout is a total one in reqwest (it ends the body stream too),
    /// and the elapsed time is checked again here so the error says what happened.
    fn send(&self, req: RequestBuilder, url: &Url) -> Result<Response, String> {
        let where_ = url_for_logs(url);
        let started = Instant::now();
        let late = || format!("request to {where_} failed: no complete answer within the HTTP deadline of {} (http_timeout)", seconds(self.timeout));
        let resp =
            req.timeout(self.timeout).send().map_err(|e| if e.is_timeout() { late() } else { format!("request to {where_} failed: {}", error_chain(&e)) })?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            return Err(format!("{where_} answered a redirect ({status}); redirects are not followed"));
        }
        if let Some(len) = resp.content_length() {
            if len > self.max_body_bytes as u64 {
                return Err(format!("{where_} answered {len} bytes; the limit is {}", self.max_body_bytes));
            }
        }
        let max_age = cache_max_age(resp.headers().get_all("cache-control").iter().filter_map(|v| v.to_str().ok()));
        let mut body = Vec::new();
        let read = resp.take(self.max_body_bytes as u64 + 1).read_to_end(&mut body);
        if started.elapsed() >= self.timeout {
            return Err(late());
        }
        read.map_err(|e| format!("reading the answer of {where_} failed: {e}"))?;
        if body.len() > self.max_body_bytes {
            return Err(format!("{where_} answered more than {} bytes", self.max_body_bytes));
        }
        Ok(Response { status, body, max_age })
    }
}

/// `5 s`, `0.3 s`: a duration as people write it.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The URL without query (it may hold a token, as for tokeninfo).
pub fn url_for_logs(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// `max-age` from Cache-Control values; `no-store`/`no-cache` count as 0.
pub fn cache_max_age<'a>(values: impl Iterator<Item = &'a str>) -> Option<Duration> {
    let mut max_age = None;
    for value in values {
        for directive in value.split(',') {
            let d = directive.trim();
            if d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache") {
                return Some(Duration::ZERO);
            }
            if let Some((name, v)) = d.split_once('=') {
                if name.trim().eq_ignore_ascii_case("max-age") {
                    if let Ok(secs) = v.trim().trim_matches('"').parse::<u64>() {
                        max_age = Some(Duration::from_secs(secs));
                    }
                }
            }
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        assert!(endpoint("https://idp.example/jwks", "jwks_url").is_ok());
        assert!(endpoint("http://127.0.0.1:8080/jwks", "jwks_url").is_ok());
        assert!(endpoint("http://[::1]:8080/jwks", "jwks_url").is_ok());
        assert!(endpoint("http://localhost/jwks", "jwks_url").is_ok());
        let e = endpoint("http://idp.example/jwks", "jwks_url").unwrap_err();
        assert!(e.0.starts_with("jwks_url: must use https"));
        assert!(endpoint("file:///etc/passwd", "jwks_url").is_err());
        assert!(endpoint("https://u:p@idp.example/", "jwks_url").is_err());
    }

    /// A server that answers headers at once, then one body byte every 50 ms (5 s in all).
    fn trickling_server() -> (String, std::thread::JoinHandle<()>) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let body = vec![b' '; 100];
            let _ = write!(conn, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
            for b in body {
                if conn.write_all(&[b]).is_err() {
                    return; // the client gave up: what the test wants
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        (url, server)
    }

    #[test]
    fn one_deadline_covers_a_trickled_body() {
        let (url, server) = trickling_server();
        let client = HttpClient::new(&HttpOptions { timeout: Duration::from_millis(500), max_body_bytes: 1024 }).unwrap();
        let started = Instant::now();
        let err = client.get(&endpoint(&url, "jwks_url").unwrap()).unwrap_err();
        let took = started.elapsed();
        assert!(err.contains("within the HTTP deadline of 0.5 s (http_timeout)"), "{err}");
        // Generous margin over the deadline; the trickle alone would take 5 s.
        assert!(took < Duration::from_millis(2500), "took {} ms", took.as_millis());
        server.join().unwrap();
    }

    #[test]
    fn cache_control() {
        assert_eq!(cache_max_age(["public, max-age=300"].into_iter()), Some(Duration::from_secs(300)));
        assert_eq!(cache_max_age(["max-age=300, no-store"].into_iter()), Some(Duration::ZERO));
        assert_eq!(cache_max_age(["public"].into_iter()), None);
    }
}

/// RFC 6749 §2.3.1: a client id or secret is form-urlencoded before it becomes the Basic
/// user or password, so one holding `:`, `%`, `+` or non-ASCII reaches the server intact.
/// Spaces become `%20` rather than `+`: the same to a form decoder, and still right for a
/// server that only percent-decodes.
fn client_credential(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod client_credential_tests {
    use super::client_credential;

    #[test]
    fn plain_credentials_are_unchanged() {
        assert_eq!(client_credential("0oa1b2c3-Client_id.x"), "0oa1b2c3-Client_id.x");
    }

    #[test]
    fn reserved_and_non_ascii_characters_are_encoded() {
        assert_eq!(client_credential("a:b+c%d e/é"), "a%3Ab%2Bc%25d%20e%2F%C3%A9");
    }
}
