"""/healthz and /metrics."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.metrics import read_service_counts
from bot.state import AppState

router = APIRouter()


@router.get("/livez")
async def livez() -> JSONResponse:
    """The gateway process itself answers (readiness of the whole desk is /healthz)."""
    return JSONResponse({"status": "ok"})


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Healthy when the engine has a model loaded, the action server answers and the DB works."""
    state: AppState = request.app.state.refdesk

    async def actions() -> bool:
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                resp = await client.get(f"{state.settings.actions_url}/health")
            return resp.status_code == 200
        except httpx.HTTPError:
            return False

    async def database() -> bool:
        def ping(session) -> bool:  # type: ignore[no-untyped-def]
            return session.execute(text("SELECT 1")).scalar() == 1

        try:
            return await state.db.run(ping)
        except Exception:
            return False

    engine_ok, actions_ok, db_ok = await asyncio.gather(
        state.engine.is_ready(), actions(), database()
    )
    checks = {"engine": engine_ok, "actions": actions_ok, "database": db_ok}
    healthy = all(checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status_code=200 if healthy else 503,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state: AppState = request.app.state.refdesk
    await state.db.run(read_service_counts, state.metrics.services)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
