"""Text search as the database compares text: Arabic spellings and Latin transliterations folded alike.

``SearchText`` is the SQL function ``casualties_search_text`` (casualties/sql/search.sql), the one home of the
folding; the stored side (regions' ``search_names``, the indexes on incident and actor names) and the searched
term both go through it, so a search is one query on trigram indexes.
"""

from __future__ import annotations

from django.db.models import F, Func, Q, TextField, Value
from django.db.models.expressions import Combinable
from django.db.models.lookups import Contains


class SearchText(Func):
    function = "casualties_search_text"
    output_field = TextField()


def folded(term: str) -> SearchText:
    """The searched term, folded by the database (a constant, so PostgreSQL folds it once when planning)."""
    return SearchText(Value(term.strip()))


def text_contains(term: str, *fields: str | Combinable, stored_folded: bool = False) -> Q:
    """Rows one of whose ``fields`` contains ``term`` as search compares text.

    Each field is folded by ``SearchText`` (matching the expression indexes built on it), unless
    ``stored_folded`` says the column already holds folded text (the regions' ``search_names``).
    """
    condition = Q()
    for field in fields:
        column = F(field) if isinstance(field, str) else field
        stored = column if stored_folded else SearchText(column)
        condition |= Q(Contains(stored, folded(term)))
    return condition


# The incident text a search reads; each has an index on its folded text (casualties.models.incidents).
INCIDENT_TEXT_FIELDS = ("title", "description", "place_name")


def incident_text_search(term: str) -> Q:
    """Incidents whose title, description or place name contains ``term``."""
    return text_contains(term, *INCIDENT_TEXT_FIELDS)
