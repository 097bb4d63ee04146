//! Where a subscription's deliveries go, parsed from its target URL:
//! - `http://` / `https://`: one signed POST per event;
//! - `nats://[user:pass@]host:port/SUBJECT.PREFIX?stream=NAME`: JetStream publish to
//!   `<prefix>.<kind>.<camera>` (default prefix `xl.events`, stream `XL_EVENTS`), acknowledged;
//! - `mqtt://[user:pass@]host:port/topic/prefix`: QoS 1 publish to `<prefix>/<kind>/<camera>`
//!   (default prefix `xl/events`), acknowledged.
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Http(Url),
    Nats {
        /// The server URL without path or query (credentials kept).
        server: String,
        subject_prefix: String,
        stream: String,
    },
    Mqtt {
        host: String,
        port: u16,
        credentials: Option<(String, String)>,
        topic_prefix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target {target}: {reason}")]
pub struct TargetError {
    /// The target with any password replaced.
    pub target: String,
    pub reason: String,
}

impl Target {
    pub fn parse(target: &str) -> Result<Self, TargetError> {
        let fail = |reason: &str| TargetError {
            target: xl_store::redact_url(target),
            reason: reason.to_string(),
        };
        let url = Url::parse(target).map_err(|e| fail(&e.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| fail("no host"))?
            .to_string();
        if url.fragment().is_some() {
            return Err(fail(
                "'#' is not allowed (an MQTT wildcard or a URL fragment)",
            ));
        }
        let path = url.path().trim_matches('/');
        match url.scheme() {
            "http" | "https" => Ok(Target::Http(url)),
            "nats" => {
                let subject_prefix = if path.is_empty() {
                    "xl.events".to_string()
                } else {
                    path.to_string()
                };
                if subject_prefix
                    .split('.')
                    .any(|t| t.is_empty() || t.contains(['*', '>', ' ', '/']))
                {
                    return Err(fail(
                        "subject prefix must be dot-separated tokens without wildcards",
                    ));
                }
                let stream = url
                    .query_pairs()
                    .find(|(k, _)| k == "stream")
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_else(|| "XL_EVENTS".to_string());
                if stream.is_empty() || stream.contains(['.', '*', '>', ' ', '/']) {
                    return Err(fail("stream name must not contain . * > / or spaces"));
                }
                let mut server = url.clone();
                server.set_path("");
                server.set_query(None);
                Ok(Target::Nats {
                    server: server.to_string().trim_end_matches('/').to_string(),
                    subject_prefix,
                    stream,
                })
            }
            "mqtt" => {
                let topic_prefix = if path.is_empty() {
                    "xl/events".to_string()
                } else {
                    path.to_string()
                };
                if topic_prefix.contains(['+', '#']) {
                    return Err(fail("topic prefix must not contain MQTT wildcards"));
                }
                let credentials = (!url.username().is_empty()).then(|| {
                    (
                        url.username().to_string(),
                        url.password().unwrap_or_default().to_string(),
                    )
                });
                Ok(Target::Mqtt {
                    host,
                    port: url.port().unwrap_or(1883),
                    credentials,
                    topic_prefix,
                })
            }
            other => Err(fail(&format!(
                "unsupported scheme {other:?}: expected http, https, nats or mqtt"
            ))),
        }
    }
}

/// An event kind or camera id as one NATS subject token.
pub fn subject_token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '.' || c == '*' || c == '>' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// An event kind or camera id as one MQTT topic level.
pub fn topic_level(s: &str) -> String {
    s.chars()
        .map(|c| if matches!(c, '/' | '+' | '#') { '_' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_defaults() {
        assert!(matches!(
            Target::parse("https://dispatch.example/hooks?x=1"),
            Ok(Target::Http(_))
        ));
        assert_eq!(
            Target::parse("nats://127.0.0.1:4222").unwrap(),
            Target::Nats {
                server: "nats://127.0.0.1:4222".into(),
                subject_prefix: "xl.events".into(),
                stream: "XL_EVENTS".into()
            }
        );
        assert_eq!(
            Target::parse("nats://u:p@10.0.0.1:4222/county.xl?stream=COUNTY").unwrap(),
            Target::Nats {
                server: "nats://u:p@10.0.0.1:4222".into(),
                subject_prefix: "county.xl".into(),
                stream: "COUNTY".into()
            }
        );
        assert_eq!(
            Target::parse("mqtt://bus:s3cret@10.0.0.2/city/xl").unwrap(),
            Target::Mqtt {
                host: "10.0.0.2".into(),
                port: 1883,
                credentials: Some(("bus".into(), "s3cret".into())),
                topic_prefix: "city/xl".into()
            }
        );
    }

    #[test]
    fn bad_targets_are_refused_without_leaking_passwords() {
        let err = Target::parse("ftp://u:hunter2@host/x").unwrap_err();
        assert!(err.reason.contains("unsupported scheme"));
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(Target::parse("nats://h:4222/a.*").is_err());
        assert!(Target::parse("nats://h:4222?stream=a.b").is_err());
        assert!(Target::parse("mqtt://h/a/#").is_err());
        assert!(Target::parse("not a url").is_err());
    }

    #[test]
    fn names_become_single_subject_tokens_and_topic_levels() {
        assert_eq!(subject_token("cam 1.north>*"), "cam_1_north__");
        assert_eq!(topic_level("cam/1+#"), "cam_1__");
    }
}
