//! A TCP proxy in front of PostgreSQL that can slow new connections down or hold all traffic,
//! for tests of what the pool does when the database is slow and the request that waited for
//! it is dropped meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

pub struct SlowProxy {
    port: u16,
    knobs: Arc<Knobs>,
    accepting: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Knobs {
    /// How long a new connection waits before the proxy connects it to PostgreSQL.
    connect_delay_ms: AtomicU64,
    /// While set, nothing is passed on in either direction.
    held: AtomicBool,
    /// While set, new connections are closed as soon as they are accepted.
    refused: AtomicBool,
}

impl SlowProxy {
    /// A proxy on a free port of 127.0.0.1, passing connections on to `upstream`'s server.
    pub async fn start(upstream: &PgConnectOptions) -> SlowProxy {
        let target = format!("{}:{}", upstream.get_host(), upstream.get_port());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let knobs = Arc::new(Knobs::default());
        let shared = knobs.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if shared.refused.load(Ordering::Relaxed) {
                    continue;
                }
                let (knobs, target) = (shared.clone(), target.clone());
                tokio::spawn(async move {
                    let delay = knobs.connect_delay_ms.load(Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let Ok(server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::spawn(pass_on(client_read, server_write, knobs.clone()));
                    pass_on(server_read, client_write, knobs).await;
                });
            }
        });
        SlowProxy {
            port,
            knobs,
            accepting,
        }
    }

    /// `options` pointed at the proxy.
    pub fn options(&self, options: &PgConnectOptions) -> PgConnectOptions {
        options.clone().host("127.0.0.1").port(self.port)
    }

    /// A database URL whose server is `options`' pointed at the proxy.
    pub fn url(&self, url: &str, options: &PgConnectOptions) -> String {
        let server = format!("{}:{}", options.get_host(), options.get_port());
        url.replacen(&server, &format!("127.0.0.1:{}", self.port), 1)
    }

    /// New connections reach PostgreSQL only after `delay`.
    pub fn delay_connects(&self, delay: Duration) {
        let millis = delay.as_millis() as u64;
        self.knobs.connect_delay_ms.store(millis, Ordering::Relaxed);
    }

    /// Holds every byte in both directions (`true`) until released (`false`).
    pub fn hold(&self, held: bool) {
        self.knobs.held.store(held, Ordering::Relaxed);
    }

    /// Closes new connections at once (`true`), as a database that is down would refuse them,
    /// until told otherwise (`false`).
    pub fn refuse(&self, refused: bool) {
        self.knobs.refused.store(refused, Ordering::Relaxed);
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn pass_on(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, knobs: Arc<Knobs>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        while knobs.held.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
