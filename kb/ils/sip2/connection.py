"""One logged-in SIP2 connection: TCP or TLS, strict request/response, error detection.

Each exchange sends a request with the next sequence digit and a checksum,
and reads the response within the request's time limit. A response whose
checksum fails is asked for again with 97 (Request ACS Resend); a 96 from the
ILS (it could not read us) makes us send our last frame again; either at most
``retries`` times. Anything that leaves the byte stream in doubt (a timeout, a
wrong sequence number, an overlong frame) closes the connection, so a late
answer can never be taken for the next request's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from kb.db import utcnow
from kb.ils.sip2.codec import Message, decode, encode, message
from kb.ils.sip2.dates import format_sip_datetime
from kb.ils.sip2.errors import (
    Sip2ChecksumError,
    Sip2ConnectionError,
    Sip2ConnectionLost,
    Sip2LoginRefused,
    Sip2NotConfigured,
    Sip2Offline,
    Sip2ProtocolError,
    Sip2Timeout,
)
from kb.ils.sip2.redact import Secret, get_logger, redact_text
from kb.ils.sip2.results import AcsStatus
from kb.ils.sip2.spec import RESEND_DEMAND, RESEND_REQUEST, RESPONSE_TO, F
from kb.settings import Settings, get_settings

log = get_logger(__name__)

# A patron with hundreds of loans makes a long 64; anything past this is not SIP2.
MAX_FRAME_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Sip2Config:
    host: str
    port: int
    institution_id: str
    login_user: str = ""
    login_password: Secret = field(default_factory=lambda: Secret(""))
    terminal_password: Secret = field(default_factory=lambda: Secret(""))
    location_code: str = ""
    tls: bool = False
    ca_file: Path | None = None
    timeout: float = 10.0
    retries: int = 3
    error_detection: bool = True
    pool_size: int = 2
    idle_seconds: float = 60.0
    encoding: str = "utf-8"
    timezone: tzinfo = field(
        default_factory=lambda: datetime.now().astimezone().tzinfo or ZoneInfo("UTC")
    )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Sip2Config:
        s = settings or get_settings()
        if not s.ils_sip2_host:
            raise Sip2NotConfigured("no ILS is configured (set REFDESK_ILS_SIP2_HOST)")
        zone: tzinfo | None = ZoneInfo(s.ils_sip2_timezone) if s.ils_sip2_timezone else None
        return cls(
            host=s.ils_sip2_host,
            port=s.ils_sip2_port,
            institution_id=s.ils_sip2_institution_id,
            login_user=s.ils_sip2_login_user,
            login_password=Secret(s.ils_sip2_login_password.get_secret_value()),
            terminal_password=Secret(s.ils_sip2_terminal_password.get_secret_value()),
            location_code=s.ils_sip2_location_code,
            tls=s.ils_sip2_tls,
            ca_file=s.ils_sip2_ca_file,
            timeout=s.ils_sip2_timeout_seconds,
            retries=s.ils_sip2_retries,
            error_detection=s.ils_sip2_error_detection,
            pool_size=s.ils_sip2_pool_size,
            idle_seconds=s.ils_sip2_idle_seconds,
            encoding=s.ils_sip2_encoding,
            **({"timezone": zone} if zone else {}),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        cafile = str(self.ca_file) if self.ca_file else None
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def now(self) -> str:
        """A transaction date for a request, in the ILS's local time."""
        return format_sip_datetime(utcnow(), self.timezone)


class Sip2Connection:
    """Use :meth:`open`; one exchange at a time (the pool guarantees it)."""

    def __init__(
        self, config: Sip2Config, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.config = config
        self._reader = reader
        self._writer = writer
        self._sequence = 0
        self._closed = False
        self.last_used = time.monotonic()
        self.status: AcsStatus | None = None

    @classmethod
    async def open(cls, config: Sip2Config) -> Sip2Connection:
        try:
            async with asyncio.timeout(config.timeout):
                reader, writer = await asyncio.open_connection(
                    config.host, config.port, ssl=config.ssl_context(), limit=MAX_FRAME_BYTES
                )
        except TimeoutError as exc:
            raise Sip2Timeout(
                f"connecting to the ILS at {config.where} took longer than {config.timeout:g} s"
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise Sip2ConnectionError(
                f"cannot connect to the ILS at {config.where}: {exc.strerror or exc}"
            ) from exc
        conn = cls(config, reader, writer)
        try:
            await conn._login()
            conn.status = await conn._sc_status()
        except BaseException:
            await conn.close()
            raise
        log.info("connected to the ILS at %s (TLS %s)", config.where, "on" if config.tls else "off")
        return conn

    @property
    def usable(self) -> bool:
        return not self._closed and not self._reader.at_eof()

    def idle_for(self) -> float:
        return time.monotonic() - self.last_used

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        # The peer may be gone already; there is nothing left to flush then.
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(self._writer.wait_closed(), timeout=1)

    async def exchange(self, request: Message) -> Message:
        """Send ``request`` and return the ILS's answer to it."""
        if not self.usable:
            raise Sip2ConnectionLost("the ILS closed the connection", request_sent=False)
        expected = RESPONSE_TO[request.command]
        sequence = self._next_sequence() if self.config.error_detection else None
        frame = encode(request, sequence=sequence, encoding=self.config.encoding)
        log.debug("sip2 -> %s", request.text(redact=True))
        sent = False
        try:
            async with asyncio.timeout(self.config.timeout):
                await self._send(frame)
                sent = True
                response = await self._receive(frame, sequence)
        except TimeoutError as exc:
            await self.close()
            raise Sip2Timeout(
                f"the ILS at {self.config.where} did not answer message {request.command} "
                f"within {self.config.timeout:g} s"
            ) from exc
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            await self.close()
            raise Sip2ConnectionLost(
                f"the connection to the ILS at {self.config.where} dropped during message "
                f"{request.command}",
                request_sent=sent,
            ) from exc
        except Sip2ProtocolError:
            await self.close()
            raise
        finally:
            self.last_used = time.monotonic()
        if response.command != expected:
            await self.close()
            raise Sip2ProtocolError(
                f"the ILS answered message {request.command} with {response.command}, "
                f"expected {expected}"
            )
        return response

    def _next_sequence(self) -> int:
        current = self._sequence
        self._sequence = (self._sequence + 1) % 10
        return current

    async def _send(self, frame: bytes) -> None:
        self._writer.write(frame)
        await self._writer.drain()

    async def _read_frame(self) -> bytes:
        try:
            return await self._reader.readuntil(b"\r")
        except asyncio.LimitOverrunError as exc:
            raise Sip2ProtocolError(
                f"the ILS sent a frame longer than {MAX_FRAME_BYTES} bytes"
            ) from exc

    async def _receive(self, request_frame: bytes, sequence: int | None) -> Message:
        resends = 0
        last_sent = request_frame
        while True:
            raw = await self._read_frame()
            try:
                frame = decode(
                    raw,
                    encoding=self.config.encoding,
                    require_checksum=self.config.error_detection,
                )
            except Sip2ChecksumError as exc:
                resends += 1
                log.warning(
                    "bad frame from the ILS (%s): %s", exc, redact_text(raw.decode("latin-1"))
                )
                if resends > self.config.retries:
                    raise Sip2ChecksumError(
                        f"the ILS at {self.config.where} kept sending frames that fail their "
                        f"checksum ({exc}); gave up after {self.config.retries} resend requests"
                    ) from exc
                last_sent = encode(message(RESEND_REQUEST, {}), sequence=0, encoding="ascii")
                await self._send(last_sent)
                continue
            response = frame.message
            if response.command == RESEND_DEMAND:
                resends += 1
                log.warning("the ILS could not read our last frame and asked for it again")
                if resends > self.config.retries:
                    raise Sip2ChecksumError(
                        f"the ILS at {self.config.where} could not read our message after "
                        f"{self.config.retries} resends"
                    )
                await self._send(last_sent)
                continue
            log.debug("sip2 <- %s", response.text(redact=True))
            if sequence is not None and frame.sequence != sequence:
                raise Sip2ProtocolError(
                    f"the ILS answered sequence number {frame.sequence}, expected {sequence}"
                )
            return response

    async def _login(self) -> None:
        if not self.config.login_user:
            return
        request = message(
            "93",
            {"uid_algorithm": "0", "pwd_algorithm": "0"},
            [
                (F.LOGIN_USER, self.config.login_user),
                (F.LOGIN_PASSWORD, self.config.login_password),
                (F.LOCATION_CODE, self.config.location_code or None),
            ],
        )
        response = await self.exchange(request)
        if response.fixed["ok"] != "1":
            raise Sip2LoginRefused(
                f"the ILS at {self.config.where} refused the SIP2 login of user "
                f"{self.config.login_user!r} (check REFDESK_ILS_SIP2_LOGIN_USER/_PASSWORD)"
            )

    async def _sc_status(self) -> AcsStatus:
        response = await self.exchange(
            message(
                "99", {"status_code": "0", "max_print_width": "040", "protocol_version": "2.00"}
            )
        )
        fixed = response.fixed
        status = AcsStatus(
            online=fixed["online_status"] == "Y",
            renewal_allowed=fixed["acs_renewal_policy"] == "Y",
            supported=response.first(F.SUPPORTED_MESSAGES),
            protocol_version=fixed["protocol_version"],
            institution_id=response.first(F.INSTITUTION_ID),
            library_name=response.first(F.LIBRARY_NAME),
        )
        if not status.online:
            raise Sip2Offline(f"the ILS at {self.config.where} reports that it is off-line")
        return status
