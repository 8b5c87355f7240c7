//! The yardstick: the least a correct server of the reference server's `projects` routes must
//! do, with nothing else, so that `bench/yardstick.sh` can say what the reference server's
//! request path costs beyond it.
//!
//! Per request: verify the HS256 bearer token (`sub`, `tenant`, `tid`, `permissions`, `exp`,
//! as `server token` mints them) and its permission; find the tenant's schema (read once per
//! process from `public.tenants`, and only if the token's `tid` is that tenant's id); run one
//! prepared statement naming that schema; answer JSON. `GET /api/projects/{id}`,
//! `GET /api/projects` (the first page: 50 rows by `created_at, id`, and a cursor when there
//! are more) and `POST /api/projects` (`name` 1-200 characters, `description` optional;
//! one `INSERT ... RETURNING` on its own, which is atomic without a transaction).
//!
//! What it leaves out, which the reference server does: request and header timeouts, a bound
//! on connections, a tenant's share of the pool, the outage probe, signed cursors, list
//! parameters, problem+json errors, tracing, graceful shutdown.
//!
//! `DRIVER=sqlx` (default) uses sqlx's pool without its ping before each use;
//! `DRIVER=tokio-postgres` shares `POOL_SIZE` tokio-postgres clients, each of which pipelines
//! the statements of all the requests using it, with statements prepared once per client and
//! schema.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Deserialize)]
struct Claims {
    tenant: String,
    tid: Uuid,
    permissions: Vec<String>,
}

#[derive(Serialize, sqlx::FromRow)]
struct Project {
    id: Uuid,
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Page {
    items: Vec<Project>,
    limit: i64,
    next: Option<String>,
}

#[derive(Deserialize)]
struct NewProject {
    name: String,
    description: Option<String>,
}

const COLUMNS: &str = "id, name, description, created_at, updated_at";
const PAGE: i64 = 50;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Statement {
    Find,
    List,
    Insert,
}

impl Statement {
    fn sql(self, schema: &str) -> String {
        match self {
            Statement::Find => format!("SELECT {COLUMNS} FROM {schema}.projects WHERE id = $1"),
            Statement::List => format!(
                "SELECT {COLUMNS} FROM {schema}.projects ORDER BY created_at, id LIMIT {}",
                PAGE + 1
            ),
            Statement::Insert => format!(
                "INSERT INTO {schema}.projects (name, description) VALUES ($1, $2) \
                 RETURNING {COLUMNS}"
            ),
        }
    }
}

enum Driver {
    Sqlx(sqlx::PgPool),
    TokioPostgres(Vec<Client>),
}

struct Client {
    client: tokio_postgres::Client,
    prepared: Mutex<HashMap<(Statement, Arc<str>), tokio_postgres::Statement>>,
}

struct App {
    key: DecodingKey,
    validation: Validation,
    driver: Driver,
    next_client: AtomicUsize,
    /// slug -> (tid, quoted schema), read once per tenant.
    tenants: RwLock<HashMap<String, (Uuid, Arc<str>)>>,
}

enum Failure {
    Status(StatusCode, &'static str),
    Database(String),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Status(status, why) => (status, why).into_response(),
            Failure::Database(why) => (StatusCode::INTERNAL_SERVER_ERROR, why).into_response(),
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Failure {
        Failure::Database(error.to_string())
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Failure {
        Failure::Database(error.to_string())
    }
}

fn project(row: &tokio_postgres::Row) -> Project {
    Project {
        id: row.get(0),
        name: row.get(1),
        description: row.get(2),
        created_at: row.get(3),
        updated_at: row.get(4),
    }
}

impl App {
    /// The schema of the tenant the token names, if the token is valid and has `permission`.
    async fn authorize(&self, headers: &HeaderMap, permission: &str) -> Result<Arc<str>, Failure> {
        let unauthorized = Failure::Status(StatusCode::UNAUTHORIZED, "invalid bearer token");
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(Failure::Status(StatusCode::UNAUTHORIZED, "no bearer token"))?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|_| unauthorized)?
            .claims;
        if !claims.permissions.iter().any(|p| p == permission) {
            return Err(Failure::Status(StatusCode::FORBIDDEN, "missing permission"));
        }
        let known = self.tenants.read().unwrap().get(&claims.tenant).cloned();
        let (tid, schema) = match known {
            Some(known) => known,
            None => {
                let row = self.look_up(&claims.tenant).await?;
                let (id, schema) =
                    row.ok_or(Failure::Status(StatusCode::UNAUTHORIZED, "no such tenant"))?;
                let found = (id, Arc::<str>::from(format!("\"{schema}\"")));
                self.tenants
                    .write()
                    .unwrap()
                    .insert(claims.tenant, found.clone());
                found
            }
        };
        if tid != claims.tid {
            return Err(Failure::Status(
                StatusCode::UNAUTHORIZED,
                "token of another incarnation",
            ));
        }
        Ok(schema)
    }

    /// The tenant's id and schema name from the registry.
    async fn look_up(&self, slug: &str) -> Result<Option<(Uuid, String)>, Failure> {
        const LOOKUP: &str = "SELECT id, schema_name FROM public.tenants WHERE slug = $1";
        Ok(match &self.driver {
            Driver::Sqlx(pool) => {
                sqlx::query_as(LOOKUP)
                    .bind(slug)
                    .fetch_optional(pool)
                    .await?
            }
            Driver::TokioPostgres(clients) => clients[0]
                .client
                .query_opt(LOOKUP, &[&slug])
                .await?
                .map(|row| (row.get(0), row.get(1))),
        })
    }

    /// A tokio-postgres client, round robin, and `statement` prepared on it for `schema`.
    async fn prepared<'a>(
        &self,
        clients: &'a [Client],
        statement: Statement,
        schema: &Arc<str>,
    ) -> Result<(&'a tokio_postgres::Client, tokio_postgres::Statement), Failure> {
        let client = &clients[self.next_client.fetch_add(1, Ordering::Relaxed) % clients.len()];
        let key = (statement, schema.clone());
        let known = client.prepared.lock().unwrap().get(&key).cloned();
        let prepared = match known {
            Some(prepared) => prepared,
            None => {
                let prepared = client.client.prepare(&statement.sql(schema)).await?;
                client
                    .prepared
                    .lock()
                    .unwrap()
                    .insert(key, prepared.clone());
                prepared
            }
        };
        Ok((&client.client, prepared))
    }
}

type Shared = State<Arc<App>>;

async fn find(
    State(app): Shared,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<Project>, Failure> {
    let schema = app.authorize(&headers, "projects:read").await?;
    let row = match &app.driver {
        Driver::Sqlx(pool) => {
            sqlx::query_as(sqlx::AssertSqlSafe(Statement::Find.sql(&schema)))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }
        Driver::TokioPostgres(clients) => {
            let (client, statement) = app.prepared(clients, Statement::Find, &schema).await?;
            client
                .query_opt(&statement, &[&id])
                .await?
                .as_ref()
                .map(project)
        }
    };
    row.map(Json)
        .ok_or(Failure::Status(StatusCode::NOT_FOUND, "no such project"))
}

async fn list(State(app): Shared, headers: HeaderMap) -> Result<Json<Page>, Failure> {
    let schema = app.authorize(&headers, "projects:read").await?;
    let mut items: Vec<Project> = match &app.driver {
        Driver::Sqlx(pool) => {
            sqlx::query_as(sqlx::AssertSqlSafe(Statement::List.sql(&schema)))
                .fetch_all(pool)
                .await?
        }
        Driver::TokioPostgres(clients) => {
            let (client, statement) = app.prepared(clients, Statement::List, &schema).await?;
            client
                .query(&statement, &[])
                .await?
                .iter()
                .map(project)
                .collect()
        }
    };
    // A keyset cursor: the last row's sort keys. Not signed: it can only point into the
    // caller's own tenant, whose schema comes from the token.
    let next = (items.len() as i64 > PAGE).then(|| {
        items.truncate(PAGE as usize);
        let last = items.last().expect("a full page");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "{},{}",
            last.created_at.to_rfc3339(),
            last.id
        ))
    });
    Ok(Json(Page {
        items,
        limit: PAGE,
        next,
    }))
}

async fn create(
    State(app): Shared,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Failure> {
    let schema = app.authorize(&headers, "projects:write").await?;
    let input: NewProject = serde_json::from_slice(&body).map_err(|_| {
        Failure::Status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the body is not a project",
        )
    })?;
    if !(1..=200).contains(&input.name.chars().count()) {
        return Err(Failure::Status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must be 1 to 200 characters",
        ));
    }
    let row = match &app.driver {
        Driver::Sqlx(pool) => {
            sqlx::query_as(sqlx::AssertSqlSafe(Statement::Insert.sql(&schema)))
                .bind(input.name)
                .bind(input.description)
                .fetch_one(pool)
                .await?
        }
        Driver::TokioPostgres(clients) => {
            let (client, statement) = app.prepared(clients, Statement::Insert, &schema).await?;
            project(
                &client
                    .query_one(&statement, &[&input.name, &input.description])
                    .await?,
            )
        }
    };
    let location = format!("/api/projects/{}", row.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(row),
    ))
}

#[tokio::main]
async fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let url = var("DATABASE_URL");
    let pool_size: usize = std::env::var("POOL_SIZE")
        .ok()
        .map(|size| size.parse().expect("POOL_SIZE is a number"))
        .unwrap_or(16);
    let driver = match std::env::var("DRIVER").as_deref().unwrap_or("sqlx") {
        "sqlx" => Driver::Sqlx(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(pool_size as u32)
                .min_connections(pool_size as u32)
                .test_before_acquire(false)
                .connect(&url)
                .await
                .expect("connect"),
        ),
        "tokio-postgres" => {
            let mut clients = Vec::new();
            for _ in 0..pool_size {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(connection);
                clients.push(Client {
                    client,
                    prepared: Mutex::new(HashMap::new()),
                });
            }
            Driver::TokioPostgres(clients)
        }
        other => panic!("DRIVER is sqlx or tokio-postgres, not {other}"),
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let app = Arc::new(App {
        key: DecodingKey::from_secret(var("JWT_SECRET").as_bytes()),
        validation,
        driver,
        next_client: AtomicUsize::new(0),
        tenants: RwLock::new(HashMap::new()),
    });
    let router = Router::new()
        .route("/api/projects", get(list).post(create))
        .route("/api/projects/{id}", get(find))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(var("BIND_ADDR"))
        .await
        .expect("bind");
    axum::serve(listener, router).await.expect("serve");
}
