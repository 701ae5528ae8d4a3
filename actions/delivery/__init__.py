"""Document delivery in chat: the request form, ticket status, cancelling a ticket.

- :mod:`.answers` reads the patron's replies (pure functions, unit-tested)
- :mod:`.prompts` what the form asks and the bilingual summary
- :mod:`.form` ``validate_delivery_form`` and the form's questions
- :mod:`.submit` opens the ticket once the patron confirmed
- :mod:`.status` the patron's own tickets and their status lines
- :mod:`.cancel` ``cancel_form``: which ticket, confirm, cancel
- :mod:`.records` the database steps (patron, drafts, tickets) run in worker threads
"""
