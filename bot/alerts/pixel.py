"""The tracking image of e-mail alerts: always a real 1x1 transparent GIF that no cache
keeps, whatever the token (a mail client must never show an error for it)."""

from __future__ import annotations

from fastapi.responses import Response

PREFIX = "/alerts/o/"
# GIF89a, 1x1, one transparent colour.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",
}


def image() -> Response:
    return Response(GIF, media_type="image/gif", headers=_HEADERS)
