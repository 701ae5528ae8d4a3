"""Personalised reading suggestions: the patron's consent, and the catalog searches
kept (only with that consent) to blend into recommendations."""
