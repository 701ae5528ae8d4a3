"""Run the gateway process: ``python -m bot.gateway`` (what ``refdesk up`` starts)."""

from __future__ import annotations

import uvicorn

from bot.app import create_app
from kb.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.bind_host,
        port=settings.gateway_port,
        ws_max_size=settings.max_frame_bytes,
        log_level="info",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
