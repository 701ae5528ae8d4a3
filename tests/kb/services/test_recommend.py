"""Reading suggestions from the sample catalog: on-topic, available and in the patron's
language first, each with its reasons; "books like X" uses X's subjects, never X."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.recommend import recommend
from kb.catalog.sample import load_sample


def test_recommendations_favour_the_topic_availability_and_language(
    session: Session, backend: str
) -> None:
    load_sample(session)
    zh = recommend(session, "心理学", None, "zh")
    assert zh.picks and all("心理学" in "".join(z for z, _ in p.why) for p in zh.picks[:2])
    assert any("可借" in z for z, _ in zh.picks[0].why)
    assert any(z == "中文书" for z, _ in zh.picks[0].why)  # a Chinese book for a zh patron
    en = recommend(session, "psychology", None, "en")
    assert en.picks and any(e == "in English" for _, e in en.picks[0].why)
    like = recommend(session, "", "Dune", "en")
    assert like.like == "Dune" and like.picks
    assert "Dune" not in [p.title for p in like.picks]
    assert recommend(session, "qwxzvbnm", None, "en").picks == []
