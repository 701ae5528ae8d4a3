"""Patrons' privacy rights: the notice on first contact, one consent history, the export
of everything held about a patron, erasure on request, and the retention job."""
