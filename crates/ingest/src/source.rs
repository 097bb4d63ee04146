use std::fmt;

use url::Url;

/// How RTP packets travel from the camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Transport {
    /// Interleaved in the RTSP TCP connection: works through NAT and firewalls.
    #[default]
    Tcp,
    /// Separate UDP ports (LAN only: retina has no reorder buffer for UDP).
    Udp,
}

/// One camera to ingest. The URL may carry `user:password`; it is never logged or printed
/// (`Debug` shows the redacted form).
#[derive(Clone)]
pub struct CameraSource {
    pub id: String,
    pub url: Url,
    pub transport: Transport,
}

impl fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CameraSource")
            .field("id", &self.id)
            .field("url", &redact_url(&self.url))
            .field("transport", &self.transport)
            .finish()
    }
}

/// The URL with any user name and password replaced by `***`, safe to log:
/// `rtsp://***@host:port/path`. Query strings are dropped too, as some cameras take credentials
/// there.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let had_credentials = !url.username().is_empty() || url.password().is_some();
    // Setting these fails only for URLs without a host, which cannot carry credentials anyway.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if shown.query().is_some() {
        shown.set_query(Some("***"));
    }
    shown.set_fragment(None);
    let text = shown.to_string();
    if had_credentials {
        let scheme_end = shown.scheme().len() + 3;
        if text.get(..scheme_end).is_some_and(|s| s.ends_with("://")) {
            return format!("{}***@{}", &text[..scheme_end], &text[scheme_end..]);
        }
    }
    text
}

/// Splits credentials out of the URL: retina gets the bare URL and the credentials separately, so
/// they never appear in a request line or in one of its errors.
pub(crate) fn split_credentials(url: &Url) -> (Url, Option<retina::client::Credentials>) {
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    if url.username().is_empty() && url.password().is_none() {
        return (bare, None);
    }
    let creds = retina::client::Credentials {
        username: percent_decode(url.username()),
        password: url.password().map(percent_decode).unwrap_or_default(),
    };
    (bare, Some(creds))
}

/// Removes every occurrence of the URL's secrets from `text` (defence in depth for error strings
/// that come from libraries).
pub(crate) fn scrub(text: &str, url: &Url) -> String {
    let mut out = text.replace(url.as_str(), &redact_url(url));
    for secret in [
        url.password().map(str::to_owned),
        Some(url.username().to_owned()),
    ]
    .into_iter()
    .flatten()
    .flat_map(|s| [percent_decode(&s), s])
    {
        // A very short user name ("a") would mangle ordinary words; secrets that short are not
        // worth hiding from a log reader anyway.
        if secret.len() >= 3 {
            out = out.replace(&secret, "***");
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn redacts_user_and_password() {
        assert_eq!(
            redact_url(&url(
                "rtsp://admin:s3cr3t@10.0.0.5:554/Streaming/Channels/101"
            )),
            "rtsp://***@10.0.0.5:554/Streaming/Channels/101"
        );
        assert_eq!(
            redact_url(&url("rtsp://admin@cam.local/live")),
            "rtsp://***@cam.local/live"
        );
    }

    #[test]
    fn leaves_plain_urls_alone_and_hides_queries() {
        assert_eq!(redact_url(&url("rtsp://10.0.0.5/x")), "rtsp://10.0.0.5/x");
        assert_eq!(
            redact_url(&url("rtsp://10.0.0.5/x?user=admin&password=pw")),
            "rtsp://10.0.0.5/x?***"
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let source = CameraSource {
            id: "cam-1".into(),
            url: url("rtsp://user:hunter2@127.0.0.1:8554/x"),
            transport: Transport::Tcp,
        };
        let shown = format!("{source:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("user:"), "{shown}");
        assert!(shown.contains("rtsp://***@127.0.0.1:8554/x"), "{shown}");
    }

    #[test]
    fn splits_and_decodes_credentials() {
        let (bare, creds) = split_credentials(&url("rtsp://ad%40min:p%3Ass@10.1.1.1:554/a"));
        assert_eq!(bare.as_str(), "rtsp://10.1.1.1:554/a");
        let creds = creds.unwrap();
        assert_eq!(creds.username, "ad@min");
        assert_eq!(creds.password, "p:ss");
        let (bare, creds) = split_credentials(&url("rtsp://10.1.1.1/a"));
        assert_eq!(bare.as_str(), "rtsp://10.1.1.1/a");
        assert!(creds.is_none());
    }

    #[test]
    fn scrub_removes_secrets_from_library_text() {
        let u = url("rtsp://operator:topsecret@10.0.0.9/x");
        let text = "401 for rtsp://operator:topsecret@10.0.0.9/x (password topsecret)";
        let clean = scrub(text, &u);
        assert!(!clean.contains("topsecret"), "{clean}");
        assert!(!clean.contains("operator"), "{clean}");
    }
}
