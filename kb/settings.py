"""All refdesk settings in one place.

Values come from environment variables with the ``REFDESK_`` prefix, or from a
settings file (``REFDESK_SETTINGS_FILE``, dotenv format). Nothing else in the code
holds hosts, ports, tokens or paths.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REFDESK_",
        env_file=os.environ.get("REFDESK_SETTINGS_FILE"),
        extra="ignore",
    )

    # --- where things live -------------------------------------------------
    home: Path = Field(REPO_ROOT / "var", description="state directory (databases, logs, keys)")
    models_dir: Path = Field(REPO_ROOT / "models", description="trained Rasa models")

    # --- storage -----------------------------------------------------------
    database_url: str = Field("", description="SQLAlchemy URL of the app database")
    tracker_store_url: str = Field("", description="SQLAlchemy URL of Rasa's tracker store")
    redis_url: str = Field("", description="Redis URL: Rasa lock store and gateway fan-out")

    # --- secrets -----------------------------------------------------------
    data_keys: str = Field(
        "",
        description="encryption keys 'id:base64,id:base64' (first encrypts); empty = var/keys.json",
    )

    # --- processes ---------------------------------------------------------
    bind_host: str = "127.0.0.1"
    engine_port: int = 5005
    actions_port: int = 5055
    gateway_port: int = 8000
    engine_token: str = Field("", description="token for the engine HTTP API (generated if empty)")
    public_url: str = Field("", description="address patrons reach the gateway at")

    # --- conversation ------------------------------------------------------
    max_message_chars: int = Field(4000, description="patron text kept and understood per message")
    max_frame_bytes: int = Field(256 * 1024, description="largest web-chat frame accepted")
    engine_timeout_seconds: float = 15.0
    default_language: str = "zh"

    # --- library system (ILS) over SIP2 -----------------------------------
    ils_sip2_host: str = Field("", description="SIP2 server host; empty = no ILS account features")
    ils_sip2_port: int = 6001
    ils_sip2_login_user: str = Field("", description="SIP2 login (93 CN); empty = no login")
    ils_sip2_login_password: SecretStr = Field(SecretStr(""), description="SIP2 login (93 CO)")
    ils_sip2_terminal_password: SecretStr = Field(
        SecretStr(""), description="AC field, if required"
    )
    ils_sip2_institution_id: str = Field("", description="AO field sent with every request")
    ils_sip2_location_code: str = Field("", description="CP field of the login")
    ils_sip2_tls: bool = Field(False, description="wrap the SIP2 connection in TLS")
    ils_sip2_ca_file: Path | None = Field(None, description="CA bundle for the ILS certificate")
    ils_sip2_timeout_seconds: float = Field(10.0, description="limit for one request")
    ils_sip2_retries: int = Field(3, description="resend requests (97/96) on a bad checksum")
    ils_sip2_error_detection: bool = Field(True, description="sequence numbers and checksums")
    ils_sip2_pool_size: int = Field(2, description="logged-in connections kept to the ILS")
    ils_sip2_idle_seconds: float = Field(60.0, description="close pooled connections idle longer")
    ils_sip2_encoding: str = Field("utf-8", description="character set the ILS speaks")
    ils_sip2_timezone: str = Field("", description="IANA zone of the ILS clock; empty = local")
    ils_session_idle_minutes: float = Field(15.0, description="verified patron session, idle")
    ils_session_max_minutes: float = Field(60.0, description="verified patron session, at most")
    ils_pin_max_failures: int = Field(5, description="wrong PINs before verification pauses")
    ils_pin_lockout_minutes: float = Field(15.0, description="window and pause for wrong PINs")
    ils_event_retention_days: int = Field(90, description="keep account audit events this long")

    # --- document delivery -------------------------------------------------
    delivery_supply_days: int = Field(5, description="days a lender has to supply once it accepted")
    delivery_download_days: int = Field(14, description="days a supplied copy can be downloaded")
    delivery_max_file_bytes: int = Field(200 * 1024 * 1024, description="largest supplied file")
    delivery_draft_hours: int = Field(
        2, description="hours an OpenURL page's hand-over to the chat stays valid"
    )
    delivery_stats_window_days: int = Field(
        365, description="answers this recent count towards a lender's measured fill rate and speed"
    )

    # --- live chat with librarians (the console) --------------------------
    console_service_hours: str = Field(
        "Mon-Sun 00:00-24:00",
        description="when librarians answer live chats, e.g. 'Mon-Fri 08:00-21:00; Sat 09:00-17:00'",
    )
    console_timezone: str = Field("Asia/Shanghai", description="IANA zone of the service hours")
    console_presence_seconds: float = Field(
        45.0, description="a librarian whose console was not heard from this long counts as away"
    )
    console_grace_seconds: float = Field(
        60.0, description="a librarian disconnected this long mid-chat: the chat goes back to the queue"
    )
    console_default_chat_minutes: float = Field(
        6.0, description="chat length assumed for wait estimates until there are closed chats"
    )
    console_session_hours: float = Field(12.0, description="a console sign-in lasts this long")
    console_max_failures: int = Field(5, description="wrong passwords in a row before lockout")
    console_lockout_minutes: float = Field(15.0, description="how long a locked login stays locked")
    console_secure_cookies: bool = Field(
        True, description="mark console cookies Secure (turn off only for plain-HTTP tests)"
    )

    # --- catalog -----------------------------------------------------------
    catalog_sru_sources: list[dict[str, str]] = Field(
        default_factory=list,
        description="remote SRU catalogs searched with the local one: JSON list of "
        '{"name", "url", "version", "record_schema"}',
    )
    catalog_sru_timeout_seconds: float = Field(2.0, description="per-source time limit")

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.home = self.home.resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'refdesk.db'}"
        if not self.tracker_store_url:
            self.tracker_store_url = f"sqlite:///{self.home / 'tracker.db'}"
        if not self.public_url:
            self.public_url = f"http://{self.bind_host}:{self.gateway_port}"
        return self

    @property
    def delivery_dir(self) -> Path:
        """Where supplied copies are stored until their download links expire."""
        return self.home / "delivery"

    @property
    def engine_url(self) -> str:
        return f"http://{self.bind_host}:{self.engine_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.bind_host}:{self.actions_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.bind_host}:{self.gateway_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
