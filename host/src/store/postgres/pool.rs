//! Connections to the database: kept open for reuse, opened again when one breaks, and used off
//! the async executor.

use crate::store::StoreError;
use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Connections kept open while unused.
const IDLE: usize = 16;
/// How long opening a connection may take, unless the connection string says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keepalives and the time unacknowledged data may wait, unless the connection string
/// says: a connection to a host that stopped answering is dropped within about 30 s.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 4;
const USER_TIMEOUT: Duration = Duration::from_secs(30);

/// The database's connections.
pub(super) struct Pool {
    config: Config,
    idle: Arc<Mutex<Vec<Client>>>,
    /// Where the database is, for errors: hosts and database, never the password.
    shown: String,
}

impl Pool {
    /// A pool for the database of the connection string `url` (`postgresql://…` or
    /// `host=… dbname=…`); nothing is opened yet.
    pub(super) fn new(url: &str) -> Result<Self, StoreError> {
        let mut config: Config = url.parse().map_err(|_| StoreError::PostgresUrl)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("carol");
        }
        // A database host that went away is noticed in about half a minute, not at the
        // system's TCP timeouts (hours): a held row lock is given up with its connection.
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(KEEPALIVE_INTERVAL);
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(KEEPALIVE_RETRIES);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(USER_TIMEOUT);
        }
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|host| match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let shown = format!(
            "{}/{}",
            hosts.join(","),
            config.get_dbname().unwrap_or("(default database)")
        );
        Ok(Self {
            config,
            idle: Arc::default(),
            shown,
        })
    }

    /// Where the database is, without credentials.
    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs `work` with a connection, off the async executor: a broken connection is dropped,
    /// and its error is [`StoreError::Unavailable`], as is one that could not be opened.
    pub(super) fn with<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        blocking(|| {
            let mut client = self.take()?;
            let result = work(&mut client);
            // Any error but the server's own answer to a statement may have left the
            // connection unusable.
            let broken = client.is_closed() || matches!(&result, Err(error) if out_of_reach(error));
            match broken {
                false => self.give_back(client),
                // The server went away (restarted, or out of reach): the idle connections went
                // with it, so the next use opens a fresh one.
                true => self.idle.lock().expect("pool lock").clear(),
            }
            result.map_err(|source| self.error(source, broken))
        })
    }

    /// Runs `open` with a connection that is then kept for its caller, in the transaction
    /// `open` began, until [`Held::finish`] or drop (which rolls it back).
    pub(super) fn hold<T>(
        &self,
        open: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<(Held, T), StoreError> {
        blocking(|| {
            let mut client = self.take()?;
            match open(&mut client) {
                Ok(value) => Ok((
                    Held {
                        client: Mutex::new(Some(client)),
                        idle: self.idle.clone(),
                    },
                    value,
                )),
                // Closing the connection rolls back what `open` began.
                Err(source) => Err(self.error(source, true)),
            }
        })
    }

    /// Runs `work` on the connection of `held`, in its transaction. On an error the
    /// connection is closed, which rolls the transaction back.
    pub(super) fn in_held<T>(
        &self,
        held: &mut Held,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut slot = held.client.lock().expect("held lock");
        let client = slot
            .as_mut()
            .ok_or_else(|| StoreError::Malformed("held connection"))?;
        let result = blocking(|| work(client));
        result.map_err(|source| {
            // Dropped with the connection: nothing of the transaction is kept.
            let closed = slot.take();
            blocking(|| drop(closed));
            self.error(source, true)
        })
    }

    /// Runs `work` on the connection of `held`, which must end its transaction; the connection
    /// goes back to the pool if it did.
    pub(super) fn finish<T>(
        &self,
        mut held: Held,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let Some(mut client) = take_held(&mut held) else {
            return Err(StoreError::Malformed("held connection"));
        };
        blocking(|| match work(&mut client) {
            Ok(value) => {
                self.give_back(client);
                Ok(value)
            }
            Err(source) => {
                drop(client);
                Err(self.error(source, true))
            }
        })
    }

    fn take(&self) -> Result<Client, StoreError> {
        let idle = self.idle.lock().expect("pool lock").pop();
        match idle {
            Some(client) if !client.is_closed() => Ok(client),
            _ => self
                .config
                .connect(NoTls)
                .map_err(|source| self.error(source, true)),
        }
    }

    fn give_back(&self, client: Client) {
        give_back(&self.idle, client);
    }

    /// What `source` means for the node: the database out of reach (the connection broke or
    /// could not be opened), or a statement that failed.
    fn error(&self, source: postgres::Error, broken: bool) -> StoreError {
        if broken || out_of_reach(&source) {
            StoreError::Unavailable {
                database: self.shown.clone(),
                source,
            }
        } else {
            StoreError::Postgres(source)
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing a connection, like using it, blocks.
        let idle = std::mem::take(&mut *self.idle.lock().expect("pool lock"));
        blocking(|| drop(idle));
    }
}

/// Whether `error` means the server is out of reach rather than that a statement failed: no
/// answer from it, or one saying the connection ends (class 08, connection exception; 57P01 to
/// 57P03, shutting down or not yet started; class 53, out of resources).
fn out_of_reach(error: &postgres::Error) -> bool {
    match error.code() {
        None => error.is_closed() || error.as_db_error().is_none(),
        Some(code) => {
            let code = code.code();
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(code, "57P01" | "57P02" | "57P03")
        }
    }
}

/// A connection in a transaction of its holder's, rolled back if dropped unfinished.
pub(in crate::store) struct Held {
    /// In a mutex only to be `Sync`, as what holds it is; never contended.
    client: Mutex<Option<Client>>,
    idle: Arc<Mutex<Vec<Client>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(mut client) = take_held(self) {
            // Closing a connection, like using it, blocks.
            blocking(|| {
                if client.batch_execute("ROLLBACK").is_ok() {
                    give_back(&self.idle, client);
                }
            });
        }
    }
}

fn take_held(held: &mut Held) -> Option<Client> {
    held.client.get_mut().expect("held lock").take()
}

fn give_back(idle: &Mutex<Vec<Client>>, client: Client) {
    let mut idle = idle.lock().expect("pool lock");
    if idle.len() < IDLE {
        idle.push(client);
    }
}

/// Runs `work`, which blocks on the database, so that it does not stall the async executor: on
/// one of its worker threads, the worker's other tasks move to another thread meanwhile.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
