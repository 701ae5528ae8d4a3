"""Reading patron answers inside the delivery forms (no engine needed)."""

from __future__ import annotations

from actions.delivery import answers
from actions.delivery.form import needed_slots

DOI = [{"entity": "doi", "value": "10.1038/nature14539"}]


def test_a_request_message_keeps_the_identifier_not_the_request_words() -> None:
    citation, problems, _ = answers.read_reference(
        "帮我传递这篇 doi:10.1038/nature14539", DOI, whole_text=False
    )
    assert citation.doi == "10.1038/nature14539" and citation.title is None and not problems


def test_a_pasted_reference_is_read_whole() -> None:
    text = "LeCun Y, Bengio Y, Hinton G. Deep learning. Nature. 2015;521(7553):436-44."
    citation, _, _ = answers.read_reference(text, [], whole_text=True)
    assert (citation.article_title, citation.journal, citation.year) == (
        "Deep learning",
        "Nature",
        2015,
    )


def test_a_bad_doi_is_a_problem_not_a_title() -> None:
    citation, problems, _ = answers.read_reference("doi:nature14539", [], whole_text=True)
    assert [p.code for p in problems] == ["doi_invalid"] and not answers.usable(citation)


def test_request_words_alone_name_nothing() -> None:
    citation, _, _ = answers.read_reference("帮我传递这篇论文", [], whole_text=True)
    assert not answers.usable(citation)


def test_choices_in_both_languages() -> None:
    assert answers.read_service("复印件就行", []) == "copy"
    assert answers.read_service("i want to borrow the book itself", []) == "loan"
    assert answers.read_service("either is fine", []) == "copy_or_loan"
    assert answers.read_delivery("发我邮箱", []) == "email"
    assert answers.read_delivery("i'll pick it up", []) == "pickup"
    assert (
        answers.read_delivery("/inform", [{"entity": "dd_answer", "value": "pickup"}]) == "pickup"
    )
    assert answers.read_address("my email is j.smith@example.edu ok") == "j.smith@example.edu"


def test_stopping_and_interruptions() -> None:
    assert answers.wants_to_stop("算了不要了", "deny", [])
    assert answers.wants_to_stop("never mind", "out_of_scope", [])
    assert not answers.wants_to_stop(
        "cancel DD-2026-000001", "cancel_ticket", [{"entity": "ticket_id", "value": "x"}]
    )
    assert answers.is_interruption("图书馆几点关门", "faq", free_text=True)
    # A bare title looks like a search to the classifier but answers "which title?".
    assert not answers.is_interruption("Deep learning", "search_catalog", free_text=True)
    assert answers.is_interruption(
        "do you have books on stoicism", "search_catalog", free_text=True
    )


def test_the_form_asks_only_what_is_missing() -> None:
    journal_only = answers.citation_to_json(
        answers.read_reference("ISSN 0028-0836", [], whole_text=True)[0]
    )
    assert needed_slots({"dd_citation": journal_only})[:2] == ["dd_citation", "dd_detail"]
    assert "dd_email" in needed_slots({"dd_delivery": "email"})
    assert "dd_pickup" in needed_slots({"dd_delivery": "pickup"})
    assert needed_slots({"dd_confirm": "cancel"}) == ["dd_confirm"]
