"""What can go wrong talking SIP2. Messages name fields and positions, never secret values."""

from __future__ import annotations


class Sip2Error(Exception):
    """Base class: the ILS could not be reached or did not answer usefully."""


class Sip2NotConfigured(Sip2Error):
    """No ILS host is set (REFDESK_ILS_SIP2_HOST)."""


class Sip2EncodeError(Sip2Error):
    """A request could not be framed (a value holds ``|`` or a carriage return, a width is off)."""


class Sip2ProtocolError(Sip2Error):
    """The ILS sent something that is not the SIP2 answer we asked for."""


class Sip2ChecksumError(Sip2ProtocolError):
    """A frame's checksum did not verify (and resending did not help)."""


class Sip2ConnectionError(Sip2Error):
    """The TCP/TLS connection could not be opened or was lost."""


class Sip2ConnectionLost(Sip2ConnectionError):
    """The connection dropped during an exchange.

    ``request_sent`` tells whether the ILS may have acted on the request: a lost
    renewal must not be sent again blindly.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class Sip2OutcomeUnknown(Sip2ConnectionError):
    """The connection dropped after a renewal was sent: it may or may not have happened."""


class Sip2Timeout(Sip2Error):
    """The ILS did not answer within the configured time."""


class Sip2LoginRefused(Sip2Error):
    """The ILS refused refdesk's SIP2 login (93): check the login user and password."""


class Sip2Unsupported(Sip2Error):
    """The ILS says it does not offer this message or policy to refdesk's terminal."""


class Sip2Offline(Sip2Error):
    """The ILS answered but says it is off-line (98 on-line status N)."""
