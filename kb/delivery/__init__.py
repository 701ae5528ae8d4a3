"""Document delivery (文献传递 / interlibrary loan): tickets, routing to lenders, metrics.

Modules, by what they do:

- :mod:`~kb.delivery.states` statuses, events, roles, ISO 18626 reasons
- :mod:`~kb.delivery.transitions` the transition table and the audit trail
- :mod:`~kb.delivery.citations`, :mod:`~kb.delivery.identifiers`,
  :mod:`~kb.delivery.openurl`, :mod:`~kb.delivery.intake` reading what patrons paste
- :mod:`~kb.delivery.service` the patron side: open, look up, cancel
- :mod:`~kb.delivery.routing` the lender rota, ranking, timeouts
- :mod:`~kb.delivery.desk` the librarian side: accept, supply, reject, forward, queues
- :mod:`~kb.delivery.files` supplied copies and their expiring download links
- :mod:`~kb.delivery.notices` status lines and push texts for patrons
- :mod:`~kb.delivery.push` queues those push texts in the outbound queue on commit
- :mod:`~kb.delivery.drafts` OpenURL page drafts handed to the chat by signed token
- :mod:`~kb.delivery.metrics` the BALIS-shaped report and its CSV
"""
