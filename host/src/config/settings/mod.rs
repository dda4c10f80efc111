//! Every setting of the configuration file, each written once: its section, name and meaning,
//! how its value is read into the node's configuration and written back out. Parsing, the
//! defaults the generated file shows, the generated file's comments and the reference in
//! `docs/operations.md` all come from this table.

mod protection;

use super::contents::{Config, DEFAULT_DATA_DIR};
use crate::policy::Rule;
use carol_core::bls::SecretKey;
use serde::de::DeserializeOwned;
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeValue, ValueDeserializer};

/// A group of settings: the top level, or a `[section]`.
pub(super) struct Section {
    /// `None` for the top level.
    pub(super) name: Option<&'static str>,
    /// What its settings are about.
    pub(super) docs: &'static str,
    pub(super) settings: &'static [Setting],
}

/// One setting.
pub(super) struct Setting {
    pub(super) name: &'static str,
    /// What it means: one paragraph, for the generated file's comment and the reference.
    pub(super) docs: &'static str,
    /// Whether a file must set it (else it has the default [`Config`] holds).
    pub(super) required: bool,
    /// Its value in a configuration, as the file writes it.
    pub(super) get: fn(&Config) -> Written,
    /// Sets it from the file's value.
    pub(super) set: fn(&mut Config, Spanned<DeValue<'_>>) -> Result<(), Problem>,
}

/// A setting's value as the file writes it.
pub(super) enum Written {
    Bool(bool),
    Number(u128),
    Text(String),
    List(Vec<String>),
}

/// What is wrong with a setting's value.
pub(super) enum Problem {
    /// It is not of the setting's type; the error has its place in the file.
    Type(toml::de::Error),
    /// It is of the type but not a value the setting takes; `at` is a place inside it
    /// (`[2]` for a list's third entry).
    Invalid { at: String, why: String },
}

impl Problem {
    fn invalid(why: impl Into<String>) -> Self {
        Self::Invalid {
            at: String::new(),
            why: why.into(),
        }
    }
}

/// Reads a value of the setting's type.
fn read<T: DeserializeOwned>(value: Spanned<DeValue<'_>>) -> Result<T, Problem> {
    T::deserialize(ValueDeserializer::from(value)).map_err(Problem::Type)
}

/// A number of milliseconds that must not be zero.
fn millis(value: Spanned<DeValue<'_>>) -> Result<Duration, Problem> {
    positive(read(value)?).map(Duration::from_millis)
}

fn positive<T: PartialEq + Default>(value: T) -> Result<T, Problem> {
    if value == T::default() {
        return Err(Problem::invalid("must be more than 0"));
    }
    Ok(value)
}

/// Allow- or deny-list entries.
fn rules(value: Spanned<DeValue<'_>>) -> Result<Vec<Rule>, Problem> {
    let entries: Vec<String> = read(value)?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            entry.parse::<Rule>().map_err(|e| Problem::Invalid {
                at: format!("[{i}]"),
                why: e.to_string(),
            })
        })
        .collect()
}

/// Host names, lowercase.
fn host_names(value: Spanned<DeValue<'_>>) -> Result<Vec<String>, Problem> {
    let names: Vec<String> = read(value)?;
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let lower = name.trim().to_ascii_lowercase();
            let label_ok = |label: &str| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            };
            if lower.len() > 253 || !lower.split('.').all(label_ok) {
                return Err(Problem::Invalid {
                    at: format!("[{i}]"),
                    why: format!(
                        "`{name}` is not a host name: write the name alone, without scheme or \
                         port (`oracle.example.com`)"
                    ),
                });
            }
            Ok(lower)
        })
        .collect()
}

/// Web origins, as browsers write them in `Origin`.
fn origins(value: Spanned<DeValue<'_>>) -> Result<Vec<String>, Problem> {
    let origins: Vec<String> = read(value)?;
    origins
        .iter()
        .enumerate()
        .map(|(i, origin)| {
            let written = url::Url::parse(origin)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .map(|url| url.origin().ascii_serialization());
            match written {
                Some(written) if written == *origin => Ok(written),
                _ => Err(Problem::Invalid {
                    at: format!("[{i}]"),
                    why: format!(
                        "`{origin}` is not an origin as browsers send it: scheme, host and port \
                         only, e.g. `https://app.example.com` or `http://localhost:3000`{}",
                        written.map_or(String::new(), |w| format!(" (here: `{w}`)"))
                    ),
                }),
            }
        })
        .collect()
}

/// Tokens, each `NAME:SHA256`.
fn tokens(value: Spanned<DeValue<'_>>) -> Result<Vec<crate::access::Token>, Problem> {
    let entries: Vec<String> = read(value)?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            crate::access::Token::parse(entry).map_err(|why| Problem::Invalid {
                at: format!("[{i}]"),
                why,
            })
        })
        .collect()
}

fn entries(tokens: &[crate::access::Token]) -> Written {
    Written::List(tokens.iter().map(|t| t.entry()).collect())
}

/// Who may do something: `anyone` or `token`.
fn who(value: Spanned<DeValue<'_>>) -> Result<crate::access::Who, Problem> {
    let text: String = read(value)?;
    crate::access::Who::parse(&text).ok_or_else(|| Problem::invalid("expected `anyone` or `token`"))
}

fn ms(duration: Duration) -> Written {
    Written::Number(duration.as_millis())
}

fn number(n: impl Into<u128>) -> Written {
    Written::Number(n.into())
}

fn count(n: usize) -> Written {
    Written::Number(n as u128)
}

fn listed(rules: &[Rule]) -> Written {
    Written::List(rules.iter().map(ToString::to_string).collect())
}

/// The most `max_connections` may be: far past what one process's descriptors allow.
const MAX_CONNECTIONS: usize = 1 << 20;

/// The settings, in the order the generated file and the reference list them.
pub(super) const SECTIONS: &[Section] = &[
    Section {
        name: None,
        docs: "",
        settings: &[
            Setting {
                name: "secret_key",
                docs: "The node's BLS12-381 secret key: 32 bytes, big-endian, in hex. Whoever has \
                       it can sign as this node; clients see its public key at `GET /`.",
                required: true,
                get: |c| Written::Text(hex::encode(c.node.key.to_bytes())),
                set: |c, v| {
                    let text: String = read(v)?;
                    c.node.key = hex::decode(text.trim())
                        .ok()
                        .and_then(|bytes| SecretKey::from_bytes(&bytes).ok())
                        .ok_or_else(|| {
                            Problem::invalid(
                                "expected 64 hex characters (a 32-byte big-endian BLS12-381 \
                                 scalar, not zero); `carol config-gen` writes a fresh one",
                            )
                        })?;
                    Ok(())
                },
            },
            Setting {
                name: "listen",
                docs: "Where the HTTP API listens; `carol run --listen ADDR` overrides it.",
                required: false,
                get: |c| Written::Text(c.listen.to_string()),
                set: |c, v| {
                    c.listen = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "data_dir",
                docs: "Where binaries, machines, their compiled code and machines' state are \
                       kept (a redb database, `carol.redb`). A relative path is relative to this \
                       file's directory.",
                required: false,
                get: |c| {
                    let dir = c
                        .node
                        .data_dir
                        .as_deref()
                        .unwrap_or(DEFAULT_DATA_DIR.as_ref());
                    Written::Text(dir.display().to_string())
                },
                set: |c, v| {
                    c.node.data_dir = Some(read(v)?);
                    Ok(())
                },
            },
        ],
    },
    Section {
        name: Some("http"),
        docs: "Who may use the HTTP API; see docs/operations.md for what each refusal protects \
               against.",
        settings: &[
            Setting {
                name: "hosts",
                docs: "Host names the node answers for besides IP addresses and `localhost`, such \
                       as its public name (`oracle.example.com`). A request whose `Host` header \
                       names any other host is refused, so that a web page cannot reach the node \
                       through a name it controls (DNS rebinding).",
                required: false,
                get: |c| Written::List(c.node.http.hosts.clone()),
                set: |c, v| {
                    c.node.http.hosts = host_names(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "allowed_origins",
                docs: "Web origins (`https://app.example.com`) whose pages may call the API from a \
                       browser, answered with CORS headers. Requests from pages of any other \
                       site are refused; the node's own pages and clients that are not browsers \
                       are not affected.",
                required: false,
                get: |c| Written::List(c.node.http.allowed_origins.clone()),
                set: |c, v| {
                    c.node.http.allowed_origins = origins(v)?;
                    Ok(())
                },
            },
        ],
    },
    Section {
        name: Some("log"),
        docs: "The node's log, on stderr; `RUST_LOG` sets its level (default `info`).",
        settings: &[Setting {
            name: "format",
            docs: "`text`: plain lines, in colour on a terminal. `json`: one JSON object per \
                   line and event, with the request's id, method and path under `span` on \
                   every line written while serving it, for log shippers.",
            required: false,
            get: |c| Written::Text(c.log_format.as_str().to_owned()),
            set: |c, v| {
                let text: String = read(v)?;
                c.log_format = crate::logging::LogFormat::parse(&text)
                    .ok_or_else(|| Problem::invalid("expected `text` or `json`"))?;
                Ok(())
            },
        }],
    },
    Section {
        name: Some("metrics"),
        docs: "The node's metrics, in the Prometheus text format; see docs/operations.md.",
        settings: &[Setting {
            name: "listen",
            docs: "Where `GET /metrics` is served. Empty: on the HTTP API's listener, beside \
                   the API. An address (`127.0.0.1:9100`): there alone, and not on the API's \
                   listener, so that a public node keeps its metrics off its public port.",
            required: false,
            get: |c| Written::Text(c.metrics_listen.map_or(String::new(), |a| a.to_string())),
            set: |c, v| {
                let text: String = read(v)?;
                c.metrics_listen = match text.trim() {
                    "" => None,
                    address => Some(address.parse().map_err(|_| {
                        Problem::invalid(format!(
                            "`{address}` is not an address and port such as `127.0.0.1:9100`; \
                             leave it empty to serve metrics on the API's listener"
                        ))
                    })?),
                };
                Ok(())
            },
        }],
    },
    Section {
        name: Some("connections"),
        docs: "Bounds on the HTTP API's connections, so that slow or idle clients cannot hold \
               the node; see docs/operations.md.",
        settings: &[
            Setting {
                name: "max_connections",
                docs: "Connections open at once. Past it a new connection is answered 503 with \
                       `Retry-After` and closed. Keep the process's file-descriptor limit \
                       (`ulimit -n`, systemd's `LimitNOFILE`) well above it.",
                required: false,
                get: |c| count(c.connections.max),
                set: |c, v| {
                    let max: usize = positive(read(v)?)?;
                    if max > MAX_CONNECTIONS {
                        return Err(Problem::invalid(format!(
                            "must be at most {MAX_CONNECTIONS}"
                        )));
                    }
                    c.connections.max = max;
                    Ok(())
                },
            },
            Setting {
                name: "header_timeout_ms",
                docs: "Time a client has to send a request's headers, in milliseconds, from when \
                       its connection opened or from its first byte after an idle spell; then \
                       the connection is closed.",
                required: false,
                get: |c| ms(c.connections.header_timeout),
                set: |c, v| {
                    c.connections.header_timeout = millis(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "request_timeout_ms",
                docs: "Time a client has to send a request's body, in milliseconds, from the end \
                       of its headers; a body still arriving then is answered 408.",
                required: false,
                get: |c| ms(c.connections.request_timeout),
                set: |c, v| {
                    c.connections.request_timeout = millis(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "idle_timeout_ms",
                docs: "Time a keep-alive connection may stay idle (nothing sent either way, no \
                       request in flight), in milliseconds, before the node closes it.",
                required: false,
                get: |c| ms(c.connections.idle_timeout),
                set: |c, v| {
                    c.connections.idle_timeout = millis(v)?;
                    Ok(())
                },
            },
        ],
    },
    protection::RATES,
    protection::COMPILES,
    Section {
        name: Some("access"),
        docs: "Who may upload binaries, create machines and run activations: anyone, or only \
               holders of a token listed here (`Authorization: Bearer TOKEN`).",
        settings: &[
            Setting {
                name: "upload",
                docs: "Who may upload binaries and create machines: `anyone` (a public node) or \
                       `token` (holders of a listed token). A request without one is refused \
                       with 401 and nothing is stored.",
                required: false,
                get: |c| Written::Text(c.node.access.upload.as_str().to_owned()),
                set: |c, v| {
                    c.node.access.upload = who(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "activate",
                docs: "Who may run activations: `anyone` or `token`.",
                required: false,
                get: |c| Written::Text(c.node.access.activate.as_str().to_owned()),
                set: |c, v| {
                    c.node.access.activate = who(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "tokens",
                docs: "The tokens, each `NAME:SHA256` (its name, which logs show, and the token's \
                       SHA-256 in hex; the token itself is never written here). `carol \
                       access-token NAME` makes a token and its entry.",
                required: false,
                get: |c| entries(&c.node.access.tokens),
                set: |c, v| {
                    c.node.access.tokens = tokens(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "admin_tokens",
                docs: "The tokens that may remove binaries and machines (`DELETE \
                       /binaries/{id}`, `DELETE /machines/{id}`), each `NAME:SHA256` as in \
                       `tokens`. None: nobody may.",
                required: false,
                get: |c| entries(&c.node.access.admin_tokens),
                set: |c, v| {
                    c.node.access.admin_tokens = tokens(v)?;
                    Ok(())
                },
            },
        ],
    },
    Section {
        name: Some("http_fetch"),
        docs: "Outbound HTTP from machines (the `http-fetch` import); see docs/policy.md.",
        settings: &[
            Setting {
                name: "allow_loopback",
                docs: "Machines may reach public unicast addresses only, unless the lists below \
                       say otherwise. Loopback is for local development and tests (`carol run \
                       --allow-loopback` turns it on too); no allow entry opens it without this.",
                required: false,
                get: |c| Written::Bool(c.node.policy.allow_loopback),
                set: |c, v| {
                    c.node.policy.allow_loopback = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "allow",
                docs: "Destinations machines may reach besides public addresses, such as an \
                       internal price server: host names (`prices.internal`, `*.example.com` \
                       for subdomains), addresses and networks (`10.1.2.3`, `10.1.0.0/16`, \
                       `2001:db8::/32`), each optionally with a port (`10.1.2.3:8080`, \
                       `[2001:db8::1]:8443`; no port or `:*` is any port). Host names are \
                       trusted for whatever they resolve to.",
                required: false,
                get: |c| listed(&c.node.policy.allow),
                set: |c, v| {
                    c.node.policy.allow = rules(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "deny",
                docs: "Destinations machines may never reach, whatever else allows them; the \
                       same forms as `allow`.",
                required: false,
                get: |c| listed(&c.node.policy.deny),
                set: |c, v| {
                    c.node.policy.deny = rules(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "allow_only_listed",
                docs: "`true`: machines may reach only what `allow` lists, not every public \
                       address.",
                required: false,
                get: |c| Written::Bool(c.node.policy.allow_only_listed),
                set: |c, v| {
                    c.node.policy.allow_only_listed = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "timeout_ms",
                docs: "Time for one outbound request, redirects included, in milliseconds.",
                required: false,
                get: |c| ms(c.node.fetch.timeout),
                set: |c, v| {
                    c.node.fetch.timeout = millis(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_response_bytes",
                docs: "Largest response body a machine may receive, in bytes.",
                required: false,
                get: |c| count(c.node.fetch.max_response_bytes),
                set: |c, v| {
                    c.node.fetch.max_response_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_requests_per_activation",
                docs: "Outbound requests one activation may make.",
                required: false,
                get: |c| number(c.node.fetch.max_requests_per_activation),
                set: |c, v| {
                    c.node.fetch.max_requests_per_activation = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_redirects",
                docs: "Redirects followed for one request.",
                required: false,
                get: |c| number(c.node.fetch.max_redirects),
                set: |c, v| {
                    c.node.fetch.max_redirects = read(v)?;
                    Ok(())
                },
            },
        ],
    },
    Section {
        name: Some("limits"),
        docs: "Bounds on uploads and activations; see docs/operations.md for what a client \
               sees when one is reached.",
        settings: &[
            Setting {
                name: "activation_timeout_ms",
                docs: "Wall-clock time for one activation, host calls included, in milliseconds.",
                required: false,
                get: |c| ms(c.node.limits.activation_timeout),
                set: |c, v| {
                    c.node.limits.activation_timeout = millis(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "memory_bytes",
                docs: "Linear memory one machine instance may grow to, in bytes.",
                required: false,
                get: |c| count(c.node.limits.memory_bytes),
                set: |c, v| {
                    c.node.limits.memory_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "output_bytes",
                docs: "Bytes of a machine's stdout and of its stderr kept per activation; the \
                       rest is dropped, and the drop logged.",
                required: false,
                get: |c| count(c.node.limits.output_bytes),
                set: |c, v| {
                    c.node.limits.output_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "keep_resident_bytes",
                docs: "Bytes of each instance's memory and tables reset in place after an \
                       activation instead of given back to the kernel, which costs every core \
                       a TLB flush and the next instance page faults. Each pooled slot keeps \
                       at most this much of what its activations wrote resident.",
                required: false,
                get: |c| count(c.node.limits.keep_resident_bytes),
                set: |c, v| {
                    c.node.limits.keep_resident_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_value_bytes",
                docs: "Memory, in bytes, that an activation's arguments, its result, and what \
                       it hands the node in one call may each take in the node as values: 40 \
                       bytes for each number, list item, field or payload, besides the bytes \
                       of strings (a `list<u8>` of 1 MiB takes 40 MiB). Arguments past it get \
                       413; a result past it fails the activation with 500.",
                required: false,
                get: |c| count(c.node.limits.value_bytes),
                set: |c, v| {
                    c.node.limits.value_bytes = positive(read(v)?)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_binary_bytes",
                docs: "Largest component a client may upload, in bytes.",
                required: false,
                get: |c| count(c.node.max_binary_bytes),
                set: |c, v| {
                    c.node.max_binary_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_params_bytes",
                docs: "Largest params a machine may be created with, in bytes.",
                required: false,
                get: |c| count(c.node.max_params_bytes),
                set: |c, v| {
                    c.node.max_params_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_request_bytes",
                docs: "Largest activation request body, in bytes.",
                required: false,
                get: |c| count(c.node.max_request_bytes),
                set: |c, v| {
                    c.node.max_request_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_concurrent_activations",
                docs: "Activations running at once (it also sizes the pool of instance slots); \
                       more wait, up to `max_waiting_activations` of them for at most \
                       `max_wait_ms` each, then get 503 with `Retry-After`.",
                required: false,
                get: |c| count(c.node.concurrency.running),
                set: |c, v| {
                    c.node.concurrency.running = positive(read(v)?)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_waiting_activations",
                docs: "Activations waiting for a turn; more are refused at once.",
                required: false,
                get: |c| count(c.node.concurrency.waiting),
                set: |c, v| {
                    c.node.concurrency.waiting = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_wait_ms",
                docs: "How long an activation may wait for a turn, in milliseconds.",
                required: false,
                get: |c| ms(c.node.concurrency.wait),
                set: |c, v| {
                    c.node.concurrency.wait = Duration::from_millis(read(v)?);
                    Ok(())
                },
            },
            Setting {
                name: "state_quota_bytes",
                docs: "Bytes of keys and values each machine's state may hold; a write past it \
                       gets `quota-exceeded`. Lowering it never deletes state, it only refuses \
                       growth.",
                required: false,
                get: |c| number(c.node.state_quota_bytes),
                set: |c, v| {
                    c.node.state_quota_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "state_total_quota_bytes",
                docs: "Bytes of keys and values all machines' state may hold together; a write \
                       past it gets `quota-exceeded` with this quota. Activations of several \
                       machines at once may pass it by what they write before they commit.",
                required: false,
                get: |c| number(c.node.state_total_quota_bytes),
                set: |c, v| {
                    c.node.state_total_quota_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "binaries_quota_bytes",
                docs: "Bytes the stored binaries and their compiled code may take together; an \
                       upload past it is answered 507 naming the quota, and nothing is stored.",
                required: false,
                get: |c| number(c.node.binaries_quota_bytes),
                set: |c, v| {
                    c.node.binaries_quota_bytes = read(v)?;
                    Ok(())
                },
            },
            Setting {
                name: "max_nonces_per_machine",
                docs: "Committed nonces that signed, per machine: each leaves a record the node \
                       keeps for ever, so that it never signs a second message. Past it, a new \
                       nonce can neither be announced nor sign, and the activation fails saying \
                       so.",
                required: false,
                get: |c| number(c.node.max_nonces_per_machine),
                set: |c, v| {
                    c.node.max_nonces_per_machine = read(v)?;
                    Ok(())
                },
            },
        ],
    },
    Section {
        name: Some("store"),
        docs: "Where binaries, machines and their state are kept: the data directory, or a \
               PostgreSQL database shared by several nodes serving as one; see \
               docs/operations.md.",
        settings: &[Setting {
            name: "postgres",
            docs: "The PostgreSQL database this node shares with the other nodes of its group, \
                   as a connection string (`postgresql://carol@db.internal:5432/carol`, or \
                   `host=/run/postgresql dbname=carol`); empty for none, when everything is \
                   kept in `data_dir`. Binaries, machines, their state and the records of \
                   committed nonces are then in the database, the compiled code in each node's \
                   `data_dir`. Its schema is brought up to date at start.",
            required: false,
            get: |c| {
                Written::Text(
                    c.node
                        .shared_store
                        .as_ref()
                        .map(|shared| shared.0.clone())
                        .unwrap_or_default(),
                )
            },
            set: |c, v| {
                let url: String = read(v)?;
                c.node.shared_store = (!url.trim().is_empty())
                    .then(|| crate::node::SharedStore(url.trim().to_owned()));
                Ok(())
            },
        }],
    },
    Section {
        name: Some("federation"),
        docs: "Membership of a federation of nodes that sign together; see docs/federation.md.",
        settings: &[
            Setting {
                name: "file",
                docs: "The federation file (`carol federation propose` writes it) of the \
                       federation this node is a member of; empty for none. A relative path is \
                       relative to this file's directory. `carol run --federation FILE` sets it \
                       too.",
                required: false,
                get: |c| {
                    Written::Text(
                        c.node
                            .federation
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                    )
                },
                set: |c, v| {
                    let path: String = read(v)?;
                    c.node.federation = (!path.is_empty()).then(|| path.into());
                    Ok(())
                },
            },
            Setting {
                name: "keygen_timeout_ms",
                docs: "How long the federation's key generation may take, in milliseconds, \
                       before the node stops with an error and keeps nothing (start it again to \
                       retry).",
                required: false,
                get: |c| ms(c.node.keygen_timeout),
                set: |c, v| {
                    c.node.keygen_timeout = millis(v)?;
                    Ok(())
                },
            },
        ],
    },
];

impl std::fmt::Display for Written {
    /// The value in TOML.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted =
            |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(text) => f.write_str(&quoted(text)),
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(|item| quoted(item)).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}
