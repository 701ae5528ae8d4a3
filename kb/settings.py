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
    sqlite_busy_timeout_seconds: float = Field(
        30.0, description="SQLite: how long a write waits for another process's lock"
    )

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
    # Enough that a few slow turns (a federated search waits up to 2 s for remote SRU
    # catalogs) do not hold up the rest; few enough that the engine is not asked to
    # interleave fifty turns at once (bench/turns).
    engine_max_turns: int = Field(
        8, description="turns one gateway has with the engine at once (0: no limit)"
    )
    engine_queue_seconds: float = Field(
        60.0, description="how long a turn may wait for its place before the patron is told"
    )
    limit_patron_messages: str = Field(
        "30/minute", description="messages one chat patron may send (moving window)"
    )
    limit_client_requests: str = Field(
        "300/minute",
        description="requests per client address to /api, /openurl, downloads, alert links, console sign-in",
    )
    limit_sockets_per_client: int = Field(
        100, description="web-chat sockets one client address may hold open"
    )
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

    # --- Telegram ------------------------------------------------------------
    telegram_token: SecretStr = Field(
        SecretStr(""), description="bot token from @BotFather; empty = no Telegram channel"
    )
    telegram_webhook_url: str = Field(
        "",
        description="public HTTPS address of /webhooks/telegram; empty = long polling",
    )
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="X-Telegram-Bot-Api-Secret-Token value; empty = generated into var/",
    )
    telegram_api_base: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL (the token is appended); tests point it at a fake",
    )
    telegram_bot_username: str = Field(
        "",
        description="the bot's @username (without @): the web chat then offers a t.me deep "
        "link that links the patron's Telegram in one tap",
    )
    telegram_poll_timeout_seconds: int = Field(10, description="long-poll wait of getUpdates")
    telegram_overall_per_second: float = Field(30.0, description="messages/s over all chats")
    telegram_chat_interval_seconds: float = Field(
        1.0, description="outbound: at least this long between two pushes to one chat"
    )
    telegram_group_per_minute: float = Field(20.0, description="messages/min to one group")

    # --- outbound queue ------------------------------------------------------
    outbound_enabled: bool = Field(True, description="run the outbound worker in the gateway")
    outbound_max_attempts: int = Field(8, description="failed tries before a dead letter")
    outbound_lease_seconds: float = Field(
        300.0, description="a claimed message not recorded as sent by then is recovered"
    )
    outbound_backoff_seconds: float = Field(5.0, description="first retry delay (doubles)")
    outbound_backoff_max_seconds: float = Field(3600.0, description="longest retry delay")
    outbound_poll_seconds: float = Field(1.0, description="idle wait between queue scans")
    outbound_concurrency: int = Field(32, description="sends in flight at once")
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
        60.0,
        description="a librarian disconnected this long mid-chat: the chat goes back to the queue",
    )
    console_default_chat_minutes: float = Field(
        6.0, description="chat length assumed for wait estimates until there are closed chats"
    )
    console_queue_update_seconds: float = Field(
        30.0,
        description="patrons waiting on Telegram or WeChat get a new place in the queue at "
        "most this often (and only when it changed)",
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

    # --- WeChat official account ------------------------------------------
    wechat_token: SecretStr = Field(
        SecretStr(""), description="Token of the account's server settings; empty = no webhook"
    )
    wechat_appid: str = Field("", description="AppID of the official account")
    wechat_appsecret: SecretStr = Field(SecretStr(""), description="AppSecret (access_token)")
    wechat_aes_key: SecretStr = Field(
        SecretStr(""), description="EncodingAESKey (43 characters) for safe mode"
    )
    wechat_aes_keys: SecretStr = Field(
        SecretStr(""),
        description="EncodingAESKeys 'current,previous' during a key change (wins over _AES_KEY)",
    )
    wechat_api_base: str = Field("https://api.weixin.qq.com", description="WeChat API address")
    wechat_api_timeout_seconds: float = Field(5.0, description="limit for one WeChat API call")
    wechat_timestamp_window_seconds: int = Field(
        300, description="requests whose timestamp is further from now are refused"
    )
    wechat_passive_reply_seconds: float = Field(
        4.5, description="answer in the HTTP response if ready this fast, else send it later"
    )
    wechat_max_body_bytes: int = Field(64 * 1024, description="largest webhook body accepted")
    wechat_dedupe_seconds: int = Field(
        600, description="remember message ids this long (WeChat retries within ~15 s)"
    )
    wechat_menu: dict[str, str] = Field(
        default_factory=lambda: {
            "LIBRARIAN": "/human_handoff",
            "SEARCH": "/search_catalog",
            "HELLO": "/greet",
            "LINK": "link",
        },
        description="custom menu CLICK keys -> intent payload ('/intent') or 'link' (link code)",
    )

    # --- linking one patron across channels --------------------------------
    link_code_minutes: int = Field(10, description="a link code is valid this long")
    link_codes_per_hour: int = Field(5, description="link codes one patron may ask for per hour")
    # Wrong codes one chat may type per link_code_minutes before it must wait.
    link_failures_per_identity: int = Field(5, description="wrong codes per chat and window")
    # Wrong codes typed anywhere while a code is live before that code is burned.
    link_code_guess_budget: int = Field(50, description="wrong codes anywhere per live code")
    # --- topical alerts ------------------------------------------------------
    alerts_topics_file: Path | None = Field(
        None,
        description="alert topic vocabulary (CLC classes); empty = kb/data/alerts/clc_topics.yml",
    )
    alerts_default_timezone: str = Field(
        "Asia/Shanghai", description="IANA time zone of a subscriber who has not said"
    )
    alerts_digest_hour: int = Field(
        8, description="local hour digests go out until a subscriber's best hour is learned"
    )
    alerts_link_days: int = Field(60, description="days unsubscribe and alert links stay valid")
    alerts_feeds: list[str] = Field(
        default_factory=list, description="library news/events RSS or Atom feeds: JSON list of URLs"
    )
    alerts_feed_minutes: int = Field(30, description="how often the feeds are read")
    alerts_feed_timeout_seconds: float = Field(
        15, description="a feed that has not answered in this long is skipped until next time"
    )
    alerts_poll_seconds: int = Field(
        10, description="how often the alerts worker matches new items and queues due alerts"
    )
    alerts_lease_seconds: int = Field(
        30, description="leader lease of the alerts worker (one leader among several)"
    )
    alerts_batch_size: int = Field(
        500, description="subscribers whose alerts are queued per committed batch"
    )

    # --- privacy rights and retention --------------------------------------
    privacy_transcript_days: int = Field(
        180, description="chat transcripts older than this are deleted by the retention job"
    )
    privacy_closed_ticket_days: int = Field(
        365, description="closed delivery tickets older than this lose their personal data"
    )
    privacy_search_history_days: int = Field(
        90,
        description="catalog searches kept for personalised suggestions (only with the "
        "patron's consent) older than this are deleted by the retention job",
    )
    privacy_export_hours: int = Field(
        24, description="hours a patron's data-export download link stays valid (used once)"
    )
    privacy_page_link_minutes: int = Field(
        30, description="minutes the one-time link to a patron's privacy page stays valid"
    )
    privacy_reoffer_days: int = Field(
        90,
        description="days after a patron declined the personalisation offer before it is "
        "offered again (a withdrawal is never followed by an offer)",
    )

    # --- e-mail (alerts) ------------------------------------------------------
    smtp_host: str = Field(
        "",
        description="SMTP server for e-mail (alerts, and replies to patrons no chat reaches); "
        "empty = no e-mail",
    )
    smtp_port: int = Field(587, description="SMTP port")
    smtp_username: str = Field("", description="SMTP login; empty = no login")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password")
    smtp_from: str = Field("", description="From address of e-mail")
    smtp_starttls: bool = Field(True, description="upgrade the SMTP connection with STARTTLS")
    smtp_tls: bool = Field(False, description="connect with implicit TLS (port 465)")
    smtp_timeout_seconds: float = Field(30.0, description="limit for one SMTP exchange")

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
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token.get_secret_value())

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
