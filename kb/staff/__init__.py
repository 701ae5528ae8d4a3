"""Library staff who use refdesk's staff APIs (and later the console): who they are,
their API keys (stored only as scrypt hashes), and the audit trail of what they did.

- :mod:`~kb.staff.models` the staff member table and roles
- :mod:`~kb.staff.keys` making API keys and checking them against their hashes
- :mod:`~kb.staff.service` add, list, revoke, authenticate
- :mod:`~kb.staff.audit` one row per staff API call: who, what, which ticket, when
"""
