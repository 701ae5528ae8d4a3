"""What can go wrong talking to the WeChat API, sorted by what the caller should do."""

from __future__ import annotations


class WeChatApiError(Exception):
    """WeChat refused the call. ``errcode``/``errmsg`` as WeChat sent them."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class OutsideReplyWindow(WeChatApiError):
    """45015: the patron has not written to the account within the last 48 hours, so
    customer-service messages cannot reach them. Keep the message for staff; it can be
    sent once the patron writes again."""


class PatronUnreachable(WeChatApiError):
    """The openid cannot receive anything (unsubscribed 43004, unknown openid 40003)."""


class WeChatTransientError(WeChatApiError):
    """Network trouble, WeChat busy (-1), rate limits, an expired token: try again later."""


class WeChatConfigError(WeChatApiError):
    """The account's settings are wrong (AppID/AppSecret 40013/40125/40164 IP whitelist,
    no permission 48001): retrying will not help; an administrator must act."""


TOKEN_REFUSED = {40001, 40014, 42001}
_TRANSIENT = {-1, 45009, 45047, 45011} | TOKEN_REFUSED
_UNREACHABLE = {43004, 40003, 43019}
_CONFIG = {40013, 40125, 40164, 41002, 41004, 48001, 50001, 50002}


def error_for(errcode: int, errmsg: str) -> WeChatApiError:
    if errcode == 45015:
        return OutsideReplyWindow(errcode, errmsg)
    if errcode in _TRANSIENT:
        return WeChatTransientError(errcode, errmsg)
    if errcode in _UNREACHABLE:
        return PatronUnreachable(errcode, errmsg)
    if errcode in _CONFIG:
        return WeChatConfigError(errcode, errmsg)
    return WeChatApiError(errcode, errmsg)
