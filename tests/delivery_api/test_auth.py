"""Staff API keys: no key, a wrong one and a revoked one are refused with a reason."""

from __future__ import annotations

import pytest


def test_no_key_is_401_with_a_bearer_challenge(desk):
    with desk.client() as http:
        response = http.get("/api/delivery/queue")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["message"]


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <key>'"),
        ("Bearer not-a-key", "not in the form"),
        ("Bearer rdk_000000000000_" + "A" * 43, "not valid"),
    ],
)
def test_wrong_keys_are_401_saying_what_is_wrong(desk, header, says):
    with desk.client() as http:
        response = http.get("/api/delivery/queue", headers={"Authorization": header})
    assert response.status_code == 401
    assert says in response.json()["message"]


def test_a_real_key_with_a_changed_secret_is_refused(desk):
    key = desk.server.keys["li.pku"]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    with desk.client() as http:
        response = http.get("/api/delivery/queue", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_a_revoked_key_is_refused_and_the_attempt_audited(desk):
    with desk.client("gone.pku") as http:
        response = http.get("/api/delivery/queue")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]
    assert ("gone.pku", "GET /api/delivery/queue", None, 401, "revoked key used") in desk.audit(
        username="gone.pku"
    )


def test_a_valid_key_gives_the_library_queue_and_is_audited(desk):
    with desk.client("li.pku") as http:
        response = http.get("/api/delivery/queue")
    assert response.status_code == 200, response.text
    assert response.json()["library"] == "PKU"
    assert desk.audit(username="li.pku")[-1] == ("li.pku", "delivery.queue", None, 200, "PKU")
