"""The data-entry surface: incidents with their figures and actors, the gazetteer, period totals."""

from . import gazetteer, incidents, tallies

__all__ = ["gazetteer", "incidents", "tallies"]
