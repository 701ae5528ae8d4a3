"""The BALIS-shaped report over HTTP, as JSON and as a CSV download."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.kb.delivery.conftest import article_draft


@pytest.fixture
def period(desk):
    ticket = desk.open(article_draft())
    with desk.client("li.pku") as pku:
        pku.post(
            f"/api/delivery/requests/{ticket}/supply", data={"link": "https://x.example/a.pdf"}
        )
    today = date.today()
    return {
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }


def test_json_report_by_lender_library_and_subject(desk, period):
    with desk.client("zhao.centre") as centre:
        response = centre.get("/api/delivery/metrics", params={**period, "lang": "en"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert set(report) == {
        "start",
        "end",
        "total",
        "by_lender",
        "by_requesting_library",
        "by_subject",
    }
    assert report["total"]["requests"] >= 1 and report["total"]["satisfied"] >= 1
    pku = next(r for r in report["by_lender"] if r["code"] == "PKU")
    assert pku["name"] == "Peking University Library" and pku["satisfied"] >= 1
    assert 0 < pku["fill_rate"] <= 1
    assert any(r["code"] == "G" for r in report["by_subject"])
    assert desk.audit(username="zhao.centre")[-1][1:4] == ("delivery.metrics", None, 200)


@pytest.mark.parametrize(
    ("lang", "header"),
    [("zh", "类别,代码,名称,请求数,满足"), ("en", "section,code,name,requests,satisfied")],
)
def test_csv_report_is_a_download_with_headers_in_the_language(desk, period, lang, header):
    with desk.client("li.pku") as pku:
        response = pku.get(
            "/api/delivery/metrics", params={**period, "lang": lang, "format": "csv"}
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith(header)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"to": "2026-03-31"}, "parameter 'from' is missing"),
        ({"from": "2026-3-1", "to": "2026-03-31"}, "parameter 'from' is '2026-3-1'"),
        ({"from": "2026-03-01", "to": "2026-02-30"}, "parameter 'to' is '2026-02-30'"),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "'to' (2026-03-01) is before 'from'"),
        ({"from": "2026-03-01", "to": "2026-03-31", "lang": "fr"}, "parameter 'lang'"),
        ({"from": "2026-03-01", "to": "2026-03-31", "format": "xlsx"}, "parameter 'format'"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(desk, params, says):
    with desk.client("zhao.centre") as centre:
        response = centre.get("/api/delivery/metrics", params=params)
    assert response.status_code == 400
    assert says in response.json()["message"]


def test_metrics_need_a_key(desk):
    with desk.client() as anonymous:
        assert anonymous.get("/api/delivery/metrics").status_code == 401
