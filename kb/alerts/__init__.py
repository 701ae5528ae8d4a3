"""Topical alerts: subscriptions to CLC classes and keywords, items from catalog
imports, harvests, news feeds and librarians' announcements, matching through an
inverted index, exactly-once deliveries, digests, quiet hours, one-tap unsubscribe
and (only with consent) engagement figures. See docs/alerts.md."""
