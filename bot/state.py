"""Everything the gateway's request handlers share, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

from bot.db import Database
from bot.engine_client import EngineClient
from bot.fanout import Fanout
from bot.hub import Hub
from bot.limits import Limits
from bot.live.desk import Desk
from bot.metrics import Metrics
from bot.router import Router
from bot.services.ils import IlsDesk
from kb.settings import Settings

WEB = Path(__file__).resolve().parent / "web"


@dataclass
class AppState:
    settings: Settings
    db: Database
    engine: EngineClient
    router: Router
    hub: Hub
    metrics: Metrics
    fanout: Fanout
    desk: Desk
    templates: Jinja2Templates
    limits: Limits
    ils: IlsDesk
    # Set by the app's start-up when configured (bot.channels.telegram, bot.outbound).
    telegram: Any = None
    outbound: Any = None
    wechat: Any = None  # bot.channels.wechat's channel, when the account is configured
    telegram_plug: Any = None  # task adding the Telegram sender once the bot is ready

    @staticmethod
    @cache
    def static_text(name: str) -> str:
        return (WEB / "static" / name).read_text("utf-8")

    async def close(self) -> None:
        await self.fanout.close()
        await self.router.close()
        await self.engine.close()
        await self.ils.close()


def build_state(settings: Settings) -> AppState:
    db = Database(settings.database_url)
    metrics = Metrics()
    engine = EngineClient(
        settings.engine_url,
        settings.engine_token,
        settings.engine_timeout_seconds,
        max_turns=settings.engine_max_turns,
        queue_seconds=settings.engine_queue_seconds,
        observe=metrics.engine_latency.observe,
    )
    ils = IlsDesk(settings)
    hub = Hub()
    fanout = Fanout(hub, settings.redis_url, settings.database_url)
    desk = Desk(settings, db, engine, fanout)
    router = Router(settings, db, engine, metrics)
    router.ils = ils
    router.desk = desk
    return AppState(
        settings=settings,
        db=db,
        engine=engine,
        router=router,
        hub=hub,
        metrics=metrics,
        fanout=fanout,
        desk=desk,
        templates=Jinja2Templates(directory=str(WEB / "templates")),
        limits=Limits(settings),
        ils=ils,
    )
