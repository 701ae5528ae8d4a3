"""SIP2 framing: building and reading messages, sequence numbers and checksums.

With error detection on, every request ends ``AY<n>AZ<xxxx>`` before the
carriage return: ``n`` is a sequence digit the response must echo, ``xxxx`` the
two's complement of the 16-bit byte sum of everything up to and including
``AZ``, in hex. The resend messages 96/97 carry ``AZ`` but no ``AY``.

Reading is lenient where real ILSes differ (a missing final ``|``, a stray
empty field, ``\\r\\n`` line ends, unknown field ids) and strict where it
matters (checksums, fixed-field widths, the command code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kb.ils.sip2.errors import Sip2ChecksumError, Sip2EncodeError, Sip2ProtocolError
from kb.ils.sip2.redact import MASK, Secret
from kb.ils.sip2.spec import FIXED_LAYOUTS, RESEND_DEMAND, RESEND_REQUEST, SECRET_FIELDS

_FIELD_ID = re.compile(r"^[A-Z]{2}$")
_TRAILER = re.compile(rb"(?:AY(\d))?AZ([0-9A-Fa-f]{4})$")


@dataclass(frozen=True)
class Message:
    """One SIP2 message: command, fixed fields by name, variable fields in wire order."""

    command: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    fields: tuple[tuple[str, str], ...] = ()

    def first(self, field_id: str) -> str | None:
        return next((v for k, v in self.fields if k == field_id), None)

    def all(self, field_id: str) -> list[str]:
        return [v for k, v in self.fields if k == field_id]

    def text(self, *, redact: bool = True) -> str:
        """The message as it goes on the wire (without trailer), secrets masked by default."""
        parts = [self.command, *(self.fixed[name] for name, _ in FIXED_LAYOUTS[self.command])]
        for field_id, value in self.fields:
            shown = MASK if redact and field_id in SECRET_FIELDS else value
            parts.append(f"{field_id}{shown}|")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"Message({self.text(redact=True)!r})"


def message(
    command: str,
    fixed: Mapping[str, str],
    fields: Iterable[tuple[str, str | Secret | None]] = (),
) -> Message:
    """Build a message; fields whose value is ``None`` are left out, secrets are unwrapped."""
    kept = tuple(
        (fid, value.reveal() if isinstance(value, Secret) else value)
        for fid, value in fields
        if value is not None
    )
    return Message(command, dict(fixed), kept)


@dataclass(frozen=True)
class Frame:
    """A decoded message with its error-detection trailer."""

    message: Message
    sequence: int | None
    checksummed: bool


def checksum(data: bytes) -> str:
    return f"{(-sum(data)) & 0xFFFF:04X}"


def encode(msg: Message, *, sequence: int | None, encoding: str) -> bytes:
    """The frame for ``msg``; with a ``sequence`` digit, error detection is on."""
    layout = FIXED_LAYOUTS.get(msg.command)
    if layout is None:
        raise Sip2EncodeError(f"unknown message {msg.command!r}")
    parts = [msg.command]
    for name, width in layout:
        value = msg.fixed.get(name)
        if value is None or len(value) != width or not value.isascii():
            raise Sip2EncodeError(
                f"message {msg.command}: fixed field {name} must be {width} ASCII characters"
            )
        parts.append(value)
    for field_id, value in msg.fields:
        if not _FIELD_ID.match(field_id):
            raise Sip2EncodeError(f"message {msg.command}: bad field id {field_id!r}")
        if "|" in value or "\r" in value or "\n" in value:
            # Never echo the value: it may be a PIN.
            raise Sip2EncodeError(
                f"message {msg.command}: field {field_id} contains '|' or a line break, "
                "which SIP2 cannot carry"
            )
        parts.append(f"{field_id}{value}|")
    body = "".join(parts).encode(encoding)
    if sequence is None:
        return body + b"\r"
    if msg.command in (RESEND_REQUEST, RESEND_DEMAND):
        body += b"AZ"
    else:
        if not 0 <= sequence <= 9:
            raise Sip2EncodeError("sequence number must be a single digit")
        body += b"AY" + str(sequence).encode() + b"AZ"
    return body + checksum(body).encode() + b"\r"


def decode(raw: bytes, *, encoding: str, require_checksum: bool) -> Frame:
    """Read one frame (with or without its carriage return)."""
    body = raw.rstrip(b"\r").lstrip(b"\n")
    trailer = _TRAILER.search(body)
    if trailer:
        digits = trailer.group(2)
        covered = body[: -len(digits)]
        if (sum(covered) + int(digits, 16)) & 0xFFFF != 0:
            raise Sip2ChecksumError(
                f"checksum {digits.decode()} does not match the message "
                f"(expected {checksum(covered)})"
            )
        sequence = int(trailer.group(1)) if trailer.group(1) else None
        body = body[: trailer.start()]
    elif require_checksum:
        raise Sip2ChecksumError("message has no checksum although error detection is on")
    else:
        sequence = None
    text = body.decode(encoding, errors="replace")
    command = text[:2]
    layout = FIXED_LAYOUTS.get(command)
    if layout is None:
        raise Sip2ProtocolError(f"unknown or unexpected message {command!r}")
    fixed: dict[str, str] = {}
    pos = 2
    for name, width in layout:
        if len(text) < pos + width:
            raise Sip2ProtocolError(
                f"message {command}: fixed field {name} (characters {pos}-{pos + width - 1}) "
                "is cut short"
            )
        fixed[name] = text[pos : pos + width]
        pos += width
    fields = tuple(
        (segment[:2], segment[2:]) for segment in text[pos:].split("|") if len(segment) >= 2
    )
    return Frame(Message(command, fixed, fields), sequence, trailer is not None)
