"""Controlled vocabularies of the casualty model (shared by models, filters, API and exports)."""

from django.db import models


class RegionLevel(models.IntegerChoices):
    COUNTRY = 0, "Country"
    ADMIN1 = 1, "Governorate / province (admin1)"
    ADMIN2 = 2, "District (admin2)"
    ADMIN3 = 3, "Sub-district (admin3)"
    ADMIN4 = 4, "Community / locality (admin4)"


class ActorKind(models.TextChoices):
    STATE_FORCES = "state_forces", "State forces"
    NON_STATE_ARMED_GROUP = "non_state_armed_group", "Non-state armed group"
    MILITIA = "militia", "Militia"
    FOREIGN_STATE = "foreign_state", "Foreign state"
    UNKNOWN = "unknown", "Unknown"


class ActorRole(models.TextChoices):
    SIDE_A = "side_a", "Side A"
    SIDE_B = "side_b", "Side B"
    PERPETRATOR = "perpetrator", "Perpetrator"
    TARGET = "target", "Target"


class DatePrecision(models.TextChoices):
    """How exactly the dates are known: UCDP GED's date_prec ladder."""

    DAY = "day", "Exact day"
    DAYS = "days", "Within a few days (2-6)"
    WEEK = "week", "Within a week"
    MONTH = "month", "Within a month"
    YEAR = "year", "Within a year"


class LocationPrecision(models.TextChoices):
    """How exactly the place is known: UCDP GED's where_prec ladder."""

    EXACT = "exact", "Exact location"
    NEAR = "near", "Near a known location (within about 25 km)"
    ADMIN3 = "admin3", "Only the sub-district (admin3)"
    ADMIN2 = "admin2", "Only the district (admin2)"
    ADMIN1 = "admin1", "Only the governorate / province (admin1)"
    COUNTRY = "country", "Only the country"


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class Outcome(models.TextChoices):
    KILLED = "killed", "Killed"
    INJURED = "injured", "Injured"
    MISSING = "missing", "Missing"


class CasualtyStatus(models.TextChoices):
    """Who the people counted were; "civilians and militants" together is unknown."""

    CIVILIAN = "civilian", "Civilian"
    COMBATANT = "combatant", "Combatant"
    UNKNOWN = "unknown", "Unknown / mixed"


class CasualtyGroup(models.TextChoices):
    """All people counted, or an of-which subgroup that is never added to all."""

    ALL = "all", "All"
    CHILDREN = "children", "of which children"
    WOMEN = "women", "of which women"
    MEN = "men", "of which men"
    ELDERLY = "elderly", "of which elderly"


class Qualifier(models.TextChoices):
    """How the source qualified its number."""

    EXACT = "exact", "Exact"
    APPROXIMATELY = "approximately", "Approximately"
    AT_LEAST = "at_least", "At least"
    AT_MOST = "at_most", "At most"
    UP_TO = "up_to", "Up to"


class RemovalReason(models.TextChoices):
    """Why an incident left the public set (verified and not merged)."""

    REJECTED = "rejected", "Rejected"
    UNVERIFIED = "unverified", "Returned to draft or review"
    MERGED = "merged", "Merged into another incident"
    DELETED = "deleted", "Deleted"
