//! An identity provider's key server on a free port of 127.0.0.1, for tests of tokens from an
//! identity provider: it serves the JWKS document the test sets at `/jwks.json` and an OpenID
//! Connect discovery document naming it, and can go down, hang, or serve what no provider
//! should (oversize or malformed documents). It counts the fetches of each.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the key server does with a request.
#[derive(Clone, Debug)]
pub enum Serve {
    /// 200 with this document, with a `Content-Length`.
    Document(String),
    /// 200 with this document and no `Content-Length`: the body ends when the connection does.
    Unsized(String),
    /// Each connection is closed as soon as it is accepted: the provider is down.
    Down,
    /// Each request is read and never answered.
    Hang,
    /// As `Document`, after this many milliseconds.
    Slow(u64, String),
}

pub struct JwksServer {
    base: String,
    state: Arc<Shared>,
    accepting: tokio::task::JoinHandle<()>,
}

struct Shared {
    jwks: Mutex<Serve>,
    discovery: Mutex<Serve>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
}

impl JwksServer {
    /// A key server answering `jwks` at `/jwks.json`, and at
    /// `/.well-known/openid-configuration` a discovery document whose issuer is
    /// [`JwksServer::issuer`].
    pub async fn start(jwks: Serve) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let discovery = serde_json::json!({
            "issuer": base,
            "jwks_uri": format!("{base}/jwks.json"),
        });
        let state = Arc::new(Shared {
            jwks: Mutex::new(jwks),
            discovery: Mutex::new(Serve::Document(discovery.to_string())),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
        });
        let shared = state.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                tokio::spawn(answer(connection, shared.clone()));
            }
        });
        JwksServer {
            base,
            state,
            accepting,
        }
    }

    /// `http://127.0.0.1:<port>`: the issuer its discovery document names.
    pub fn issuer(&self) -> &str {
        &self.base
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.base)
    }

    pub fn serve(&self, jwks: Serve) {
        *self.state.jwks.lock().unwrap() = jwks;
    }

    pub fn serve_discovery(&self, discovery: Serve) {
        *self.state.discovery.lock().unwrap() = discovery;
    }

    /// Requests for the JWKS so far, answered or not.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn discovery_fetches(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn answer(mut connection: TcpStream, shared: Arc<Shared>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match connection.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let path = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let serve = match path.as_str() {
        "/jwks.json" => {
            shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            shared.jwks.lock().unwrap().clone()
        }
        "/.well-known/openid-configuration" => {
            shared.discovery_fetches.fetch_add(1, Ordering::SeqCst);
            shared.discovery.lock().unwrap().clone()
        }
        _ => Serve::Document(String::new()),
    };
    let response = match serve {
        Serve::Down => return,
        Serve::Slow(millis, body) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            )
        }
        Serve::Hang => {
            std::future::pending::<()>().await;
            return;
        }
        Serve::Document(body) => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        ),
        Serve::Unsized(body) => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{body}"
        ),
    };
    let _ = connection.write_all(response.as_bytes()).await;
    let _ = connection.shutdown().await;
}
