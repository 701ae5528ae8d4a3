"""A SIP2 (3M Standard Interchange Protocol 2.00) client: codec, connections, typed results."""
