"""The FastAPI baseline for bench/fastapi.sh: the Rust server's three project routes, done the
usual FastAPI way (PyJWT, Pydantic models, async SQLAlchemy ORM on asyncpg).

It mirrors examples/server request for request:
  * an HS256 bearer token with claims sub, tenant, permissions, iat, exp; exp and sub are
    required, no leeway; the tenant comes only from the token;
  * the route's permission (projects:read or projects:write) is checked before the database;
  * every request runs one transaction that first runs
    `SELECT set_config('search_path', quote_ident(schema_name), true) FROM public.tenants
    WHERE slug = $1` (the tenant must still be registered; the setting ends with the
    transaction), then the route's query, then COMMIT: BEGIN, 2 statements, COMMIT, the same
    round trips as the Rust server;
  * the same tables: the tenant schemas that `server migrate` and `server tenant create` made.

Environment: DATABASE_URL (postgres://...), JWT_SECRET, DATABASE_POOL_SIZE (per worker
process; default 8, so 2 workers hold 16 connections like the Rust server's default pool).
"""

import os
import re
import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, AsyncIterator

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATABASE_URL = re.sub(r"^postgres(ql)?://", "postgresql+asyncpg://", os.environ["DATABASE_URL"])
JWT_SECRET = os.environ["JWT_SECRET"]
POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "8"))

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SLUG = re.compile(r"[a-z][a-z0-9_]{0,55}")

# Each uvicorn worker imports this module and so has its own engine and pool. ssl=False: the
# Rust server's sqlx is built without TLS and so talks plain TCP to PostgreSQL; asyncpg would
# otherwise negotiate TLS (its default sslmode is prefer) and pay for encryption on every query.
engine = create_async_engine(
    DATABASE_URL, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=5, connect_args={"ssl": False}
)
Session = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Project(Base):
    # No schema: the name resolves through the transaction's search_path, the tenant's schema.
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    name: Mapped[str]
    description: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreateProject(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None


class ProjectResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class ProjectPage(BaseModel):
    items: list[ProjectResponse]
    limit: int
    offset: int


class CurrentUser(BaseModel):
    id: str
    tenant: str
    permissions: list[str]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


# async def, not def: FastAPI runs a plain-def dependency in a thread pool, a thread hop per
# request for a few microseconds of work.
async def current_user(authorization: Annotated[str | None, Header()] = None) -> CurrentUser:
    if authorization is None:
        raise unauthorized("missing bearer token")
    if not authorization.startswith("Bearer "):
        raise unauthorized("the Authorization header must be `Bearer <token>`")
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer ").strip(),
            JWT_SECRET,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
            leeway=0,
        )
    except jwt.InvalidTokenError as error:
        raise unauthorized(f"invalid bearer token: {error}") from error
    tenant = claims.get("tenant")
    if not isinstance(tenant, str) or not SLUG.fullmatch(tenant):
        raise unauthorized(f"invalid tenant slug {tenant!r}")
    return CurrentUser(id=claims["sub"], tenant=tenant, permissions=claims.get("permissions", []))


def require(permission: str):
    async def check(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
        if permission not in user.permissions:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this action requires the {permission} permission"
            )
        return user

    return check


@asynccontextmanager
async def tenant_transaction(user: CurrentUser) -> AsyncIterator[AsyncSession]:
    """The analog of the Rust server's Ctx::begin: a transaction scoped to the caller's tenant.
    Commits when the block ends normally, rolls back on an exception."""
    async with Session() as session, session.begin():
        registered = await session.scalar(
            text(
                "SELECT set_config('search_path', quote_ident(schema_name), true) "
                "FROM public.tenants WHERE slug = :slug"
            ),
            {"slug": user.tenant},
        )
        if registered is None:
            raise unauthorized(f"tenant {user.tenant} is not registered")
        yield session


Reader = Annotated[CurrentUser, Depends(require("projects:read"))]
Writer = Annotated[CurrentUser, Depends(require("projects:write"))]

app = FastAPI(title="projects (FastAPI baseline)")


@app.get("/api/projects", response_model=ProjectPage)
async def list_projects(
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProjectPage:
    async with tenant_transaction(user) as session:
        rows = await session.scalars(
            select(Project).order_by(Project.created_at, Project.id).limit(limit).offset(offset)
        )
        projects = rows.all()
    return ProjectPage(
        items=[ProjectResponse.model_validate(p) for p in projects], limit=limit, offset=offset
    )


@app.post("/api/projects", response_model=ProjectResponse, status_code=status.HTTP_201_CREATED)
async def create_project(user: Writer, body: CreateProject, response: Response) -> ProjectResponse:
    async with tenant_transaction(user) as session:
        project = Project(name=body.name, description=body.description)
        session.add(project)
        # One INSERT ... RETURNING id, created_at, updated_at (the server defaults).
        await session.flush()
    response.headers["Location"] = f"/api/projects/{project.id}"
    return ProjectResponse.model_validate(project)


@app.get("/api/projects/{project_id}", response_model=ProjectResponse)
async def get_project(user: Reader, project_id: uuid.UUID) -> ProjectResponse:
    async with tenant_transaction(user) as session:
        project = await session.scalar(select(Project).where(Project.id == project_id))
    if project is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"project {project_id} not found")
    return ProjectResponse.model_validate(project)


@app.get("/healthz")
async def healthz() -> str:
    return "ok"
