//! `carol:machine/http-fetch`: outbound HTTP from machines, through the node's client
//! (`crate::fetch`), at most so many requests per activation, denials logged with the machine.

use super::context::MachineContext;
use crate::bindings::carol::machine::http_fetch::{Error, Host, Request, Response};

impl Host for MachineContext {
    async fn fetch(&mut self, request: Request) -> Result<Response, Error> {
        let limit = self.services.http.limits().max_requests_per_activation;
        if self.fetches >= limit {
            let reason = format!("an activation may make at most {limit} outbound requests");
            // Logged once per activation: a machine that keeps calling must not flood the log.
            if self.fetches == limit {
                tracing::warn!(machine = %self.machine, "outbound request denied: {reason}");
                self.fetches += 1;
            }
            self.services.metrics.outbound("denied");
            return Err(Error::Denied(reason));
        }
        self.fetches += 1;
        let result = self.services.http.fetch(request).await;
        if let Err(Error::Denied(reason)) = &result {
            tracing::warn!(machine = %self.machine, "outbound request denied: {reason}");
        }
        self.services.metrics.outbound(match &result {
            Ok(_) => "ok",
            Err(Error::Denied(_)) => "denied",
            Err(Error::Timeout) => "timeout",
            Err(Error::TooLarge) => "too_large",
            Err(_) => "failed",
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::carol::machine::http_fetch::Method;

    /// A denied fetch is logged at warn with the machine id, and a machine that keeps calling
    /// past its request limit is logged once, not once per call.
    #[test]
    fn denied_fetches_are_logged_with_the_machine_id() {
        use super::super::context::Services;
        use crate::fetch::{FetchLimits, HttpClient};
        use crate::policy::OutboundPolicy;
        use carol_core::bls::SecretKey;
        use carol_core::ids::{BinaryId, MachineId};
        use std::sync::{Arc, Mutex};

        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(writer.clone()))
            .with_ansi(false)
            .finish();
        let binary = BinaryId::of(b"component");
        let machine = MachineId::of(&binary, b"");
        let limits = FetchLimits {
            max_requests_per_activation: 1,
            ..FetchLimits::default()
        };
        let mut context = MachineContext::new(
            machine,
            binary,
            Arc::from(&b""[..]),
            Arc::new(Services::new(
                SecretKey::generate(),
                false,
                HttpClient::new(OutboundPolicy::default(), limits),
                Arc::new(crate::store::Store::open(None).unwrap()),
                crate::imports::Quotas {
                    state_bytes: 0,
                    nonce_records: 0,
                    state_total_bytes: 0,
                },
                Arc::default(),
            )),
            tokio::time::Instant::now() + std::time::Duration::from_secs(60),
        );
        let request = Request {
            method: Method::Get,
            url: "http://127.0.0.1:9/".to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                for _ in 0..3 {
                    let result = Host::fetch(&mut context, request.clone()).await;
                    assert!(matches!(result, Err(Error::Denied(_))), "{result:?}");
                }
            })
        });
        let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 2, "{log}");
        for line in &lines {
            assert!(
                line.contains("WARN") && line.contains(&format!("machine={machine}")),
                "{line}"
            );
        }
        assert!(
            lines[0].contains("127.0.0.1 is a loopback address"),
            "{log}"
        );
        assert!(lines[1].contains("at most 1 outbound requests"), "{log}");
    }
}
