"""Everything the gateway's request handlers share, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

from bot.db import Database
from bot.engine_client import EngineClient
from bot.hub import Hub
from bot.limits import Limits
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
        await self.router.close()
        await self.engine.close()
        await self.ils.close()


def build_state(settings: Settings) -> AppState:
    db = Database(settings.database_url)
    engine = EngineClient(
        settings.engine_url, settings.engine_token, settings.engine_timeout_seconds
    )
    metrics = Metrics()
    ils = IlsDesk(settings)
    router = Router(settings, db, engine, metrics)
    router.ils = ils
    return AppState(
        settings=settings,
        db=db,
        engine=engine,
        router=router,
        hub=Hub(),
        metrics=metrics,
        templates=Jinja2Templates(directory=str(WEB / "templates")),
        limits=Limits(settings),
        ils=ils,
    )
