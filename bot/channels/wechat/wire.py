"""WeChat's XML on the wire: parsing what arrives, building what we answer.

Parsing goes through defusedxml with DTDs, entity declarations and external
references all forbidden (no XXE, no "billion laughs"); the caller caps the size
before anything is parsed. WeChat messages are one flat <xml> element of leaf
fields; anything else is refused.
"""

from __future__ import annotations

import time
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_FIELDS = 64


class BadXml(Exception):
    """Malformed, hostile or unexpected XML."""


def parse(body: bytes) -> dict[str, str]:
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadXml(f"forbidden XML construct: {type(exc).__name__}") from exc
    except (ParseError, ValueError) as exc:
        raise BadXml(f"not well-formed XML: {exc}") from exc
    if root.tag != "xml":
        raise BadXml(f"root element is <{root.tag}>, expected <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(fields) >= MAX_FIELDS:
            raise BadXml("too many fields")
        if not isinstance(child.tag, str):
            continue
        if len(child):
            # ScanCodeInfo, SendPicsInfo, ... : nested events we do not use; keep the name.
            fields.setdefault(child.tag, "")
            continue
        fields[child.tag] = (
            (child.text or "").strip() if child.tag != "Content" else child.text or ""
        )
    return fields


def cdata(value: str) -> str:
    # "]]>" would end the section early: split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{now or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def encrypted_reply(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )
