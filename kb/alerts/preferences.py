"""Alert preferences in a patron's own words: quiet hours ("晚上10点到早上7点半别发",
"no alerts between 10pm and 7am"), time zone ("我在纽约", "Europe/Berlin"), channel
("用邮件", "by email") and language ("用英文", "in English").

A small rule-based reader rather than dateparser: only times of day and a closed set
of channels, languages and cities are needed, in two languages, and dateparser would
add a large dependency (and its own regex data for 200 locales) for a fraction of that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from kb.alerts.timing import valid_zone

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "[零〇一二两三四五六七八九十]+"
_NUM = rf"(?:\d{{1,2}}|{_CN_NUM})"

# Parts of the day and what they do to a 12-hour clock reading.
_AFTERNOON = ("下午", "傍晚", "晚上", "晚", "夜里", "夜间", "夜晚", "中午")
_MORNING = ("凌晨", "早上", "早晨", "早", "上午", "清晨", "半夜")
_PERIOD = "凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜间|夜晚|半夜|早|晚"

_ZH_TIME = re.compile(
    rf"(?P<period>{_PERIOD})?\s*(?P<hour>{_NUM})\s*(?:点钟?|时)"
    rf"(?:\s*(?P<half>半)|\s*(?P<quarter>一刻|三刻)|\s*(?P<minute>{_NUM})\s*分?)?"
)
_EN_TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|(?<![\d:])(?P<h24>\d{1,2}):(?P<m24>\d{2})(?!\d)"
    r"|\b(?P<word>noon|midday|midnight)\b",
    re.I,
)
# A bare hour closing a range whose start had a clock reading ("10pm to 7").
_BARE_END = re.compile(r"^\s*(?:and|to|until|till|-|–|~|到|至)\s*(?P<hour>\d{1,2})(?![\d:.])")

_ONLY = re.compile(r"只在|只要在|仅在|\bonly\b", re.I)
_QUIET_OFF = re.compile(
    r"(取消|关闭|不要|去掉|删除)(了)?免打扰|免打扰(取消|关掉|关闭)|随时(都)?(可以)?发"
    r"|(no|remove|clear|turn off|cancel|delete)( the| my)? quiet hours|any ?time is fine",
    re.I,
)

CHANNEL_WORDS = [
    ("email", r"邮件|邮箱|电邮|e-?mail|\bmail\b"),
    ("wechat", r"微信|公众号|wechat|weixin"),
    ("telegram", r"电报|telegram|\btg\b"),
    ("web", r"网页|网站|网上聊天|web ?chat|website|\bweb\b|browser"),
]
LANGUAGE_WORDS = [
    ("en", r"英文|英语|english"),
    ("zh", r"中文|汉语|华语|chinese|mandarin"),
]
_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_IANA = re.compile(r"\b(?:[A-Z][A-Za-z_-]+/){1,2}[A-Z][A-Za-z_-]+\b|\bUTC\b|\bGMT\b")

# Cities and countries patrons name, in both languages, to their IANA zone.
CITY_ZONES: dict[str, str] = {}
for _zone, _names in {
    "Asia/Shanghai": "北京 上海 广州 深圳 南京 杭州 武汉 成都 重庆 西安 天津 中国 国内 "
    "beijing shanghai guangzhou shenzhen nanjing hangzhou wuhan chengdu china",
    "Asia/Hong_Kong": "香港 hong_kong hongkong",
    "Asia/Macau": "澳门 macau macao",
    "Asia/Taipei": "台北 台湾 taipei taiwan",
    "Asia/Tokyo": "东京 大阪 日本 tokyo osaka japan",
    "Asia/Seoul": "首尔 韩国 seoul korea",
    "Asia/Singapore": "新加坡 singapore",
    "Asia/Kolkata": "印度 孟买 新德里 india mumbai delhi",
    "Europe/London": "伦敦 英国 爱丁堡 london uk britain england edinburgh",
    "Europe/Paris": "巴黎 法国 paris france",
    "Europe/Berlin": "柏林 慕尼黑 德国 berlin munich germany",
    "Europe/Amsterdam": "阿姆斯特丹 荷兰 amsterdam netherlands",
    "Europe/Madrid": "马德里 西班牙 madrid spain",
    "Europe/Rome": "罗马 意大利 rome italy",
    "Europe/Moscow": "莫斯科 俄罗斯 moscow russia",
    "America/New_York": "纽约 波士顿 华盛顿 new_york nyc boston washington",
    "America/Chicago": "芝加哥 chicago",
    "America/Los_Angeles": "洛杉矶 旧金山 西雅图 硅谷 los_angeles san_francisco seattle",
    "America/Toronto": "多伦多 蒙特利尔 toronto montreal",
    "America/Vancouver": "温哥华 vancouver",
    "Australia/Sydney": "悉尼 sydney",
    "Australia/Melbourne": "墨尔本 melbourne",
    "Pacific/Auckland": "奥克兰 新西兰 auckland new_zealand",
}.items():
    for _name in _names.split():
        CITY_ZONES[_name.replace("_", " ")] = _zone
_CITY = re.compile(
    "|".join(
        (re.escape(n) if not n.isascii() else rf"\b{re.escape(n)}\b")
        for n in sorted(CITY_ZONES, key=len, reverse=True)
    ),
    re.I,
)


@dataclass(frozen=True)
class Preferences:
    """What a message asked for; None = not mentioned."""

    quiet: tuple[str, str] | None = None  # local "HH:MM" start and end
    quiet_off: bool = False
    quiet_incomplete: bool = False  # one time named where a window needs two
    timezone: str | None = None
    channel: str | None = None
    email: str | None = None
    language: str | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.quiet
            or self.quiet_off
            or self.quiet_incomplete
            or self.timezone
            or self.channel
            or self.language
        )


def chinese_number(text: str) -> int | None:
    """十 = 10, 十一 = 11, 二十 = 20, 二十三 = 23, 七 = 7, or Arabic digits."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        high = _CN_DIGITS.get(tens, 1) if tens else 1
        low = _CN_DIGITS.get(ones, 0) if ones else 0
        if (tens and tens not in _CN_DIGITS) or (ones and ones not in _CN_DIGITS):
            return None
        return high * 10 + low
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


@dataclass(frozen=True)
class _Clock:
    at: time
    start: int  # position in the text
    end: int
    afternoon: bool  # read with an afternoon/evening marker (pm, 晚上)
    marked: bool  # had an am/pm or a part of the day


def _valid(hour: int | None, minute: int) -> time | None:
    if hour is None or not 0 <= minute < 60:
        return None
    if hour == 24:
        hour = 0
    if not 0 <= hour < 24:
        return None
    return time(hour, minute)


def _zh_clock(m: re.Match[str]) -> _Clock | None:
    hour = chinese_number(m["hour"])
    if m["half"]:
        minute = 30
    elif m["quarter"]:
        minute = 15 if m["quarter"] == "一刻" else 45
    elif m["minute"]:
        minute = chinese_number(m["minute"]) or 0
    else:
        minute = 0
    period = m["period"] or ""
    afternoon = period in _AFTERNOON
    if hour is not None and hour <= 12:
        if period in ("晚上", "晚", "夜里", "夜间", "夜晚", "半夜") and hour == 12:
            hour = 0
        elif afternoon and period != "中午" and hour < 12 or period == "中午" and hour < 6:
            hour += 12
        elif period in _MORNING and hour == 12:
            hour = 0
    at = _valid(hour, minute)
    return _Clock(at, m.start(), m.end(), afternoon, bool(period)) if at else None


def _en_clock(m: re.Match[str]) -> _Clock | None:
    if m["word"]:
        word = m["word"].lower()
        noon = time(0, 0) if word == "midnight" else time(12, 0)
        return _Clock(noon, m.start(), m.end(), word != "midnight", True)
    if m["h24"]:
        clock = _valid(int(m["h24"]), int(m["m24"]))
        return _Clock(clock, m.start(), m.end(), False, False) if clock else None
    hour, minute = int(m["hour"]), int(m["minute"] or 0)
    pm = m["ampm"].lower().startswith("p")
    if not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if pm else 0)
    at = _valid(hour, minute)
    return _Clock(at, m.start(), m.end(), pm, True) if at else None


def clock_times(text: str) -> list[time]:
    """Every time of day in the text, in order (10pm, 22:00, 晚上十点, 早上7点半)."""
    return [c.at for c in _clocks(text)]


def _clocks(text: str) -> list[_Clock]:
    found = [c for m in _ZH_TIME.finditer(text) if (c := _zh_clock(m))]
    for m in _EN_TIME.finditer(text):
        clock = _en_clock(m)
        if clock is None:
            continue
        # "晚上10:30": a 24-hour reading after a part of the day is a 12-hour one.
        before = re.search(rf"({_PERIOD})\s*$", text[: m.start()])
        if m["h24"] and before and clock.at.hour < 12:
            period = before.group(1)
            if period in _AFTERNOON and period != "中午":
                clock = _Clock(
                    time(clock.at.hour + 12, clock.at.minute), m.start(), m.end(), True, True
                )
            else:
                clock = _Clock(clock.at, m.start(), m.end(), False, True)
        found.append(clock)
    found.sort(key=lambda c: c.start)
    if len(found) == 1:
        # "between 10pm and 7": a bare hour closing the range.
        first = found[0]
        bare = _BARE_END.match(text[first.end :])
        if bare:
            hour = int(bare["hour"])
            if first.afternoon and hour < 12 and hour > first.at.hour - 12:
                hour += 12  # "9pm to 11" is 23:00
            at = _valid(hour, 0)
            if at:
                found.append(_Clock(at, first.end, first.end + bare.end(), False, False))
    elif len(found) >= 2:
        first, second = found[0], found[1]
        # "晚上9点到11点": the second inherits the evening when it would come later.
        if first.afternoon and not second.marked and second.at.hour < 12:
            later = second.at.hour + 12
            if first.at.hour < later < 24:
                found[1] = _Clock(
                    time(later, second.at.minute), second.start, second.end, True, True
                )
    return found


def _quiet(text: str) -> tuple[tuple[str, str] | None, bool]:
    clocks = _clocks(text)
    if len(clocks) >= 2:
        start, end = clocks[0].at, clocks[1].at
        if start == end:
            return None, True
        if _ONLY.search(text):
            # "only between 8am and 10pm": quiet is the rest of the day.
            start, end = end, start
        return (start.strftime("%H:%M"), end.strftime("%H:%M")), False
    return None, len(clocks) == 1


def _first(pairs: list[tuple[str, str]], text: str) -> str | None:
    best: tuple[int, str] | None = None
    for value, pattern in pairs:
        m = re.search(pattern, text, re.I)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), value)
    return best[1] if best else None


def _timezone(text: str) -> str | None:
    for m in _IANA.finditer(text):
        name = "UTC" if m.group(0) == "GMT" else m.group(0)
        if valid_zone(name):
            return name
    city = _CITY.search(text)
    return CITY_ZONES[city.group(0).lower()] if city else None


def read_preferences(text: str) -> Preferences:
    """What the message asks to change about how alerts reach the patron."""
    quiet_off = bool(_QUIET_OFF.search(text))
    quiet, incomplete = (None, False) if quiet_off else _quiet(text)
    address = _ADDRESS.search(text)
    without_address = _ADDRESS.sub(" ", text)
    channel = _first(CHANNEL_WORDS, without_address) or ("email" if address else None)
    return Preferences(
        quiet=quiet,
        quiet_off=quiet_off,
        quiet_incomplete=incomplete,
        timezone=_timezone(without_address),
        channel=channel,
        email=address.group(0) if address else None,
        language=_first(LANGUAGE_WORDS, without_address),
    )
