//! The one HTTP request an exporter makes: a body sent with `POST` or `PUT` to an `http://` or
//! `https://` URL (rustls with the web PKI roots), over a new HTTP/1.1 connection, within a
//! deadline; any status but 2xx is an error carrying the start of the response body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long one request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most response body an error message quotes.
const QUOTED_BODY: usize = 512;

/// A checked destination: the URL, its parts, and the headers every request to it carries.
#[derive(Debug, Clone)]
pub struct Destination {
    url: url::Url,
    host: String,
    port: u16,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Why a destination is not usable, or a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not an absolute `http://` or `https://` URL with a host.
    #[error("`{}` is not an http:// or https:// URL", hornet_script::request_url::without_url_password(.0))]
    Url(String),
    /// A header name or value is not valid in HTTP.
    #[error("the header `{0}` is not a valid HTTP header")]
    Header(String),
    /// The TCP connection, TLS handshake or HTTP exchange failed.
    #[error("{0}")]
    Io(String),
    /// No answer within [`REQUEST_TIMEOUT`].
    #[error("no answer within {} s", REQUEST_TIMEOUT.as_secs())]
    Timeout,
    /// The receiver answered with a status other than 2xx.
    #[error("the receiver answered {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
}

impl Destination {
    /// `url` with `headers` (name, value) on every request.
    pub fn new(url: &str, headers: &[(String, String)]) -> Result<Destination, HttpError> {
        let bad_url = || HttpError::Url(url.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| bad_url())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad_url());
        }
        let host = match parsed.host().ok_or_else(bad_url)? {
            url::Host::Ipv6(ip) => ip.to_string(),
            other => other.to_string(),
        };
        let port = parsed.port_or_known_default().ok_or_else(bad_url)?;
        let mut headers: Vec<(String, String)> = headers.to_vec();
        let mut parsed = parsed;
        // `http://user:password@host/...`: basic auth, unless an Authorization header is given.
        if !parsed.username().is_empty() {
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            let (user, password) = (decode(parsed.username()), decode(parsed.password().unwrap_or_default()));
            if !headers.iter().any(|(n, _)| n.trim().eq_ignore_ascii_case("authorization")) {
                headers.push(("Authorization".into(), crate::basic_auth(&user, &password)));
            }
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
        }
        let headers = headers
            .iter()
            .map(|(n, v)| {
                let bad = || HttpError::Header(n.clone());
                Ok((
                    HeaderName::try_from(n.trim()).map_err(|_| bad())?,
                    HeaderValue::try_from(v.trim()).map_err(|_| bad())?,
                ))
            })
            .collect::<Result<_, HttpError>>()?;
        Ok(Destination { url: parsed, host, port, headers })
    }

    /// The URL (without credentials: they went to the `Authorization` header).
    pub fn shown(&self) -> String {
        self.url.to_string()
    }

    /// The same destination at `path` below its URL's path (`/metrics/job/x` under a
    /// Pushgateway's base URL).
    pub fn joined(&self, path: &str) -> Destination {
        let mut url = self.url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        Destination { url, ..self.clone() }
    }

    /// Sends `body` with `method` and `headers` (besides the destination's own); Ok when the
    /// receiver answers 2xx.
    pub async fn send(
        &self,
        method: Method,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        tls: &Arc<rustls::ClientConfig>,
    ) -> Result<(), HttpError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, headers, body, tls))
            .await
            .map_err(|_| HttpError::Timeout)?
    }

    async fn exchange(
        &self,
        method: Method,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        tls: &Arc<rustls::ClientConfig>,
    ) -> Result<(), HttpError> {
        let io = |e: std::io::Error| HttpError::Io(format!("cannot reach {}:{}: {e}", self.host, self.port));
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await.map_err(io)?;
        let _ = tcp.set_nodelay(true);
        if self.url.scheme() == "https" {
            let name =
                ServerName::try_from(self.host.clone()).map_err(|_| HttpError::Url(self.url.to_string()))?;
            let stream = TlsConnector::from(tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| HttpError::Io(format!("TLS with {}: {e}", self.host)))?;
            self.request(stream, method, headers, body).await
        } else {
            self.request(tcp, method, headers, body).await
        }
    }

    async fn request<S>(
        &self,
        stream: S,
        method: Method,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(), HttpError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let failed = |e: hyper::Error| HttpError::Io(format!("HTTP exchange with {}: {e}", self.host));
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(failed)?;
        let driver = tokio::spawn(connection);
        let path = match self.url.query() {
            Some(q) => format!("{}?{q}", self.url.path()),
            None => self.url.path().to_owned(),
        };
        let authority = match self.url.port() {
            Some(p) => format!("{}:{p}", self.url.host_str().unwrap_or_default()),
            None => self.url.host_str().unwrap_or_default().to_owned(),
        };
        let mut request = Request::builder().method(method).uri(path).header(http::header::HOST, authority);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        for &(name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| HttpError::Io(format!("cannot build the request: {e}")))?;
        let response = sender.send_request(request).await.map_err(failed)?;
        let status = response.status();
        let result = if status.is_success() {
            Ok(())
        } else {
            let bytes = Limited::new(response.into_body(), 64 * 1024).collect().await.map(|b| b.to_bytes());
            let text =
                bytes.map(|b| String::from_utf8_lossy(&b[..b.len().min(QUOTED_BODY)]).trim().to_owned());
            Err(HttpError::Status { status: status.as_u16(), body: text.unwrap_or_default() })
        };
        driver.abort();
        result
    }
}

/// The TLS client configuration of every export: aws-lc-rs, the web PKI roots.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorization(d: &Destination) -> Vec<String> {
        d.headers
            .iter()
            .filter(|(n, _)| n == http::header::AUTHORIZATION)
            .map(|(_, v)| v.to_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn url_credentials_become_basic_auth_and_leave_the_url() {
        let d = Destination::new("http://ann:s%40cret@127.0.0.1:9/api/v1/write", &[]).expect("valid");
        assert_eq!(d.shown(), "http://127.0.0.1:9/api/v1/write");
        assert_eq!(authorization(&d), [crate::basic_auth("ann", "s@cret")]);
        let given = [("authorization".to_owned(), "Bearer t".to_owned())];
        let d = Destination::new("https://ann:x@h.example/w", &given).expect("valid");
        assert_eq!(authorization(&d), ["Bearer t"], "a given Authorization header wins");
        assert_eq!((d.host.as_str(), d.port), ("h.example", 443));
    }

    #[test]
    fn bad_urls_and_headers_are_refused_without_showing_a_password() {
        for url in ["127.0.0.1:9090/api/v1/write", "ftp://h/x", "http://"] {
            assert!(matches!(Destination::new(url, &[]), Err(HttpError::Url(_))), "{url}");
        }
        let e = Destination::new("ftp://ann:pw@h/x", &[]).expect_err("not http");
        assert!(!e.to_string().contains("pw"), "{e}");
        let bad = [("X Bad".to_owned(), "v".to_owned())];
        assert!(matches!(Destination::new("http://h/", &bad), Err(HttpError::Header(_))));
        assert_eq!(
            Destination::new("http://h:9091/base/", &[])
                .expect("valid")
                .joined("/metrics/job/hornet")
                .shown(),
            "http://h:9091/base/metrics/job/hornet"
        );
    }
}
