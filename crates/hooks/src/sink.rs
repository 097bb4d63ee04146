//! Delivering one event to a target and learning whether it arrived: a 2xx answer to a signed
//! POST, a JetStream publish acknowledgement, or an MQTT PUBACK. Anything else is a failure the
//! dispatcher retries, so every sink is at-least-once; the event id travels with each delivery
//! (`X-Xl-Event-Id`, `Nats-Msg-Id`, the body's `id`) for receivers to drop duplicates.
use std::time::Duration;

use bytes::Bytes;
use rumqttc::{AsyncClient, Event as MqttEvent, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::Mutex;

use crate::signing::sign;
use crate::target::{subject_token, topic_level, Target};

/// One event on its way to one subscription.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub subscription_id: String,
    pub event_id: String,
    pub kind: String,
    pub camera_id: String,
    /// The event JSON with the owner's masks applied.
    pub body: Bytes,
    /// 1 for the first attempt.
    pub attempt: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    /// The receiver asked for this pause (HTTP Retry-After on 429/503).
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry_after: None,
        }
    }
}

pub enum Sink {
    Http {
        client: reqwest::Client,
        url: url::Url,
        secret: String,
    },
    Nats {
        server: String,
        subject_prefix: String,
        stream: String,
        secret: String,
        timeout: Duration,
        context: Mutex<Option<async_nats::jetstream::Context>>,
    },
    Mqtt {
        host: String,
        port: u16,
        credentials: Option<(String, String)>,
        topic_prefix: String,
        timeout: Duration,
        client_id: String,
        /// One publish in flight at a time: its PUBACK is then unambiguous.
        connection: Mutex<Option<Box<(AsyncClient, EventLoop)>>>,
    },
}

impl Sink {
    /// A sink for `target`; connections are made on first use and remade after a failure.
    pub fn new(
        target: Target,
        secret: &str,
        http: reqwest::Client,
        timeout: Duration,
        client_id: &str,
    ) -> Self {
        let secret = secret.to_string();
        match target {
            Target::Http(url) => Sink::Http {
                client: http,
                url,
                secret,
            },
            Target::Nats {
                server,
                subject_prefix,
                stream,
            } => Sink::Nats {
                server,
                subject_prefix,
                stream,
                secret,
                timeout,
                context: Mutex::new(None),
            },
            Target::Mqtt {
                host,
                port,
                credentials,
                topic_prefix,
            } => Sink::Mqtt {
                host,
                port,
                credentials,
                topic_prefix,
                timeout,
                client_id: client_id.to_string(),
                connection: Mutex::new(None),
            },
        }
    }

    pub async fn deliver(&self, d: &Delivery) -> Result<(), DeliveryError> {
        let timestamp = chrono::Utc::now().timestamp();
        match self {
            Sink::Http {
                client,
                url,
                secret,
            } => {
                let response = client
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .header("x-xl-event-id", &d.event_id)
                    .header("x-xl-timestamp", timestamp.to_string())
                    .header("x-xl-signature", sign(secret, timestamp, &d.body))
                    .header("x-xl-subscription", &d.subscription_id)
                    .header("x-xl-attempt", d.attempt.to_string())
                    .body(d.body.clone())
                    .send()
                    .await
                    .map_err(|e| DeliveryError::new(describe_reqwest(&e)))?;
                let status = response.status();
                if status.is_success() {
                    return Ok(());
                }
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Err(DeliveryError {
                    message: format!("HTTP {status}"),
                    retry_after,
                })
            }
            Sink::Nats {
                server,
                subject_prefix,
                stream,
                secret,
                timeout,
                context,
            } => {
                let mut guard = context.lock().await;
                if guard.is_none() {
                    *guard = Some(nats_context(server, subject_prefix, stream, *timeout).await?);
                }
                let js = guard.clone().expect("connected above");
                drop(guard);
                let subject = format!(
                    "{subject_prefix}.{}.{}",
                    subject_token(&d.kind),
                    subject_token(&d.camera_id)
                );
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", d.event_id.as_str());
                headers.insert("Xl-Timestamp", timestamp.to_string().as_str());
                headers.insert("Xl-Signature", sign(secret, timestamp, &d.body).as_str());
                let publish = async {
                    js.publish_with_headers(subject, headers, d.body.clone())
                        .await
                        .map_err(|e| DeliveryError::new(format!("NATS publish: {e}")))?
                        .await
                        .map_err(|e| DeliveryError::new(format!("JetStream ack: {e}")))
                };
                match tokio::time::timeout(*timeout, publish).await {
                    Ok(Ok(_ack)) => Ok(()),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(DeliveryError::new(format!(
                        "JetStream ack timed out after {timeout:?}"
                    ))),
                }
            }
            Sink::Mqtt {
                host,
                port,
                credentials,
                topic_prefix,
                timeout,
                client_id,
                connection,
            } => {
                let topic = format!(
                    "{topic_prefix}/{}/{}",
                    topic_level(&d.kind),
                    topic_level(&d.camera_id)
                );
                let mut guard = connection.lock().await;
                let connection = guard.get_or_insert_with(|| {
                    let mut options = MqttOptions::new(client_id.clone(), host.clone(), *port);
                    options.set_keep_alive(Duration::from_secs(30));
                    options.set_clean_session(true);
                    options.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
                    if let Some((user, pass)) = credentials {
                        options.set_credentials(user.clone(), pass.clone());
                    }
                    Box::new(AsyncClient::new(options, 16))
                });
                let (client, eventloop) = &mut **connection;
                let result = tokio::time::timeout(
                    *timeout,
                    mqtt_publish(client, eventloop, &topic, d.body.clone()),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(DeliveryError::new(format!(
                        "MQTT PUBACK timed out after {timeout:?}"
                    )))
                });
                if result.is_err() {
                    // A fresh connection next time: nothing stale left queued in the old one
                    // can be mistaken for this delivery's acknowledgement.
                    *guard = None;
                }
                result
            }
        }
    }
}

async fn nats_context(
    server: &str,
    subject_prefix: &str,
    stream: &str,
    timeout: Duration,
) -> Result<async_nats::jetstream::Context, DeliveryError> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(timeout)
        .connect(server)
        .await
        .map_err(|e| DeliveryError::new(format!("NATS connect: {e}")))?;
    let js = async_nats::jetstream::new(client);
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: stream.to_string(),
        subjects: vec![format!("{subject_prefix}.>")],
        // The JetStream de-duplication window drops a redelivered event id within it.
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .map_err(|e| DeliveryError::new(format!("JetStream stream {stream}: {e}")))?;
    Ok(js)
}

/// Publishes at QoS 1 and drives the connection until the broker acknowledges that publish.
async fn mqtt_publish(
    client: &AsyncClient,
    eventloop: &mut EventLoop,
    topic: &str,
    body: Bytes,
) -> Result<(), DeliveryError> {
    client
        .publish_bytes(topic, QoS::AtLeastOnce, false, body)
        .await
        .map_err(|e| DeliveryError::new(format!("MQTT publish: {e}")))?;
    let mut pkid = None;
    loop {
        match eventloop.poll().await {
            Ok(MqttEvent::Outgoing(Outgoing::Publish(id))) if pkid.is_none() => pkid = Some(id),
            Ok(MqttEvent::Incoming(Packet::PubAck(ack))) if Some(ack.pkid) == pkid => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(DeliveryError::new(format!("MQTT connection: {e}"))),
        }
    }
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // The URL is left out: it may carry a token in its query.
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    }
}
