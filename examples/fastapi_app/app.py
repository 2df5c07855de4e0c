"""The example service: clients and their tags, per tenant, over the router.

- The router is built in the lifespan (one per process) and closed at shutdown.
- `tenant` is the tenant-scoped dependency: the organization from `X-Organization-Id`, the
  consistency token from `X-Consistency-Token`; its sessions are bound to that organization
  (row-level security as the application role).
- A write answers with `X-Consistency-Token`; a read that sends it back sees that write, whichever
  replica serves it (read-your-writes across requests).
- The library's errors become HTTP statuses (`errors.py`); `/api/health`, `/api/health/ready`,
  `/api/health/live` and `/metrics` come from `advisoros_db.http`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from advisoros_db.http import create_health_router
from advisoros_db.routing import AsyncRouter
from advisoros_db.schema.tenants import Client
from advisoros_db.settings import Settings, get_settings
from examples.fastapi_app import errors
from examples.fastapi_app.models import ClientTag

TOKEN_HEADER = "X-Consistency-Token"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service, configured by `settings` (default: the ADVISOROS_* environment)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        router = AsyncRouter.from_settings(settings or get_settings())
        app.state.router = router
        try:
            yield
        finally:
            await router.aclose()

    app = FastAPI(title="advisoros-db example", lifespan=lifespan)
    errors.install(app)
    app.include_router(create_health_router(_CurrentRouter(app)))
    app.include_router(api)
    return app


class _CurrentRouter:
    """The health routes' source: the router the lifespan built (it does not exist before)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = self.app.state.router.health()
        return report

    def metrics_text(self) -> bytes:
        text: bytes = self.app.state.router.metrics_text()
        return text


@dataclass(frozen=True)
class Tenant:
    """One request's tenant: sessions bound to its organization, reads consistent with the
    token the client sent."""

    router: AsyncRouter
    organization_id: uuid.UUID
    token: str | None

    def read(self) -> Any:
        return self.router.session("read", organization_id=self.organization_id, token=self.token)

    def write(self) -> Any:
        return self.router.session("write", organization_id=self.organization_id)


def tenant(
    request: Request,
    organization: Annotated[str | None, Header(alias="X-Organization-Id")] = None,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER)] = None,
) -> Tenant:
    if organization is None:
        raise HTTPException(400, "the X-Organization-Id header is required")
    try:
        organization_id = uuid.UUID(organization)
    except ValueError:
        raise HTTPException(400, f"X-Organization-Id {organization!r} is not a UUID") from None
    return Tenant(request.app.state.router, organization_id, token)


TenantDep = Annotated[Tenant, Depends(tenant)]


class NewClient(BaseModel):
    business_name: str = Field(min_length=1, max_length=200)


class NewTag(BaseModel):
    tag: str


def _client_json(client: Client, tags: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(client.id),
        "business_name": client.business_name,
        "status": client.status,
        "created_at": client.created_at.isoformat(),
    }
    if tags is not None:
        body["tags"] = tags
    return body


def _hand_on_token(response: Response, router: AsyncRouter) -> None:
    if router.token is not None:
        response.headers[TOKEN_HEADER] = str(router.token)


api = APIRouter()


@api.post("/clients", status_code=201)
async def create_client(body: NewClient, scope: TenantDep, response: Response) -> dict[str, Any]:
    session: AsyncSession
    async with scope.write() as session:
        client = Client(organization_id=scope.organization_id, business_name=body.business_name)
        session.add(client)
    # Committed: the object stays readable (the router's sessions do not expire on commit).
    _hand_on_token(response, scope.router)
    return _client_json(client)


@api.get("/clients/{client_id}")
async def read_client(client_id: uuid.UUID, scope: TenantDep) -> dict[str, Any]:
    session: AsyncSession
    async with scope.read() as session:
        client = await session.get(Client, client_id)
        if client is None:
            raise HTTPException(404, f"no client {client_id} in this organization")
        tags = (
            await session.scalars(
                select(ClientTag.tag)
                .where(ClientTag.client_id == client_id)
                .order_by(ClientTag.tag)
            )
        ).all()
    return _client_json(client, list(tags))


@api.post("/clients/{client_id}/tags", status_code=201)
async def tag_client(
    client_id: uuid.UUID, body: NewTag, scope: TenantDep, response: Response
) -> dict[str, Any]:
    session: AsyncSession
    async with scope.write() as session:
        tag = ClientTag(organization_id=scope.organization_id, client_id=client_id, tag=body.tag)
        session.add(tag)
    _hand_on_token(response, scope.router)
    return {"id": str(tag.id), "client_id": str(client_id), "tag": tag.tag}
