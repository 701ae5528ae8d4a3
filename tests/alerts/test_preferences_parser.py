"""The alert-preferences reader: times of day, quiet windows, zones, channels, languages."""

from datetime import time

import pytest

from kb.alerts.preferences import chinese_number, clock_times, read_preferences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10pm", time(22, 0)),
        ("10 PM", time(22, 0)),
        ("7:30am", time(7, 30)),
        ("12am", time(0, 0)),
        ("12 p.m.", time(12, 0)),
        ("22:00", time(22, 0)),
        ("midnight", time(0, 0)),
        ("晚上十点", time(22, 0)),
        ("晚上10点", time(22, 0)),
        ("早上7点半", time(7, 30)),
        ("早上七点半", time(7, 30)),
        ("下午三点一刻", time(15, 15)),
        ("晚上十一点四十五分", time(23, 45)),
        ("晚上12点", time(0, 0)),
        ("中午12点", time(12, 0)),
        ("中午1点", time(13, 0)),
        ("凌晨两点", time(2, 0)),
        ("8点", time(8, 0)),
        ("晚上10:30", time(22, 30)),
        ("二十三点", time(23, 0)),
    ],
)
def test_one_time_of_day(text: str, expected: time) -> None:
    assert clock_times(text) == [expected]


def test_not_times() -> None:
    assert clock_times("25:00 or 13pm or 第3本书") == []
    assert chinese_number("二十三") == 23
    assert chinese_number("十") == 10
    assert chinese_number("abc") is None


@pytest.mark.parametrize(
    ("text", "quiet"),
    [
        ("晚上10点到早上8点别发", ("22:00", "08:00")),
        ("晚上十点到早上七点半不要打扰我", ("22:00", "07:30")),
        ("晚上9点到11点别发", ("21:00", "23:00")),
        ("no alerts between 10pm and 7am", ("22:00", "07:00")),
        ("dont send anything from 23:00 to 6:30", ("23:00", "06:30")),
        ("quiet hours 10pm to 7", ("22:00", "07:00")),
        ("only send between 8am and 10pm", ("22:00", "08:00")),
        ("只在早上9点到晚上9点发", ("21:00", "09:00")),
        ("不要在中午12点到下午2点发", ("12:00", "14:00")),
    ],
)
def test_quiet_window(text: str, quiet: tuple[str, str]) -> None:
    assert read_preferences(text).quiet == quiet


def test_quiet_needs_two_times_or_is_turned_off() -> None:
    one = read_preferences("晚上10点以后别发")
    assert one.quiet is None and one.quiet_incomplete
    off = read_preferences("取消免打扰")
    assert off.quiet_off and off.quiet is None
    assert read_preferences("please remove my quiet hours").quiet_off


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("我在纽约", "America/New_York"),
        ("我现在在伦敦读书", "Europe/London"),
        ("my time zone is Europe/Berlin", "Europe/Berlin"),
        ("I'm in New York now", "America/New_York"),
        ("i live in san francisco", "America/Los_Angeles"),
        ("时区改成 Asia/Tokyo", "Asia/Tokyo"),
        ("use UTC", "UTC"),
        ("我回北京了", "Asia/Shanghai"),
    ],
)
def test_time_zone(text: str, zone: str) -> None:
    assert read_preferences(text).timezone == zone


def test_unknown_zone_is_not_guessed() -> None:
    assert read_preferences("my time zone is Mars/Olympus_Mons").timezone is None


@pytest.mark.parametrize(
    ("text", "channel", "email"),
    [
        ("用邮件发给我", "email", None),
        ("send them by e-mail", "email", None),
        ("通知发到 li.hua@example.edu.cn", "email", "li.hua@example.edu.cn"),
        ("改成微信通知", "wechat", None),
        ("send alerts on telegram", "telegram", None),
        ("就在网页上提醒我", "web", None),
    ],
)
def test_channel(text: str, channel: str, email: str | None) -> None:
    found = read_preferences(text)
    assert (found.channel, found.email) == (channel, email)


def test_language_and_mixed() -> None:
    found = read_preferences("用英文，我在纽约，晚上10点到早上7点别发")
    assert found.language == "en"
    assert found.timezone == "America/New_York"
    assert found.quiet == ("22:00", "07:00")
    assert read_preferences("alerts in Chinese please").language == "zh"
    assert read_preferences("in English please").language == "en"
    assert read_preferences("hello there").empty
