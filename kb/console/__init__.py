"""Live chat with librarians: the handoff queue, console logins, canned replies,
internal notes and chat metrics.

- :mod:`~kb.console.models` live chats, notes, canned replies, console sessions
- :mod:`~kb.console.availability` is a librarian on duty (status online, service hours)
- :mod:`~kb.console.departments` department queues: departments, who is online, the claim rule
- :mod:`~kb.console.queue` request, claim (race-safe), transfer, close, rate, requeue
- :mod:`~kb.console.passwords` argon2 password hashes
- :mod:`~kb.console.logins` password login, lockout, session tokens, CSRF tokens
- :mod:`~kb.console.canned` bilingual canned replies
- :mod:`~kb.console.metrics` wait, first reply, duration, handoff rate, ratings
"""
