"""The subject librarian directory, loaded from kb/data/subject_librarians.yml on first start."""

from kb.subjects.models import SubjectLibrarian
from kb.subjects.service import (
    LibrarianNotFound,
    SubjectError,
    active_librarians,
    as_dict,
    delete_librarian,
    librarians_for,
    load_bundled,
    save_librarian,
)

__all__ = [
    "LibrarianNotFound",
    "SubjectError",
    "SubjectLibrarian",
    "active_librarians",
    "as_dict",
    "delete_librarian",
    "librarians_for",
    "load_bundled",
    "save_librarian",
]
