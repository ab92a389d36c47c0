"""Who may see and do what: the one place the admin and the API take their role rules from.

Roles are auth groups holding model permissions; object-level rules (whose drafts, which
status) are the functions below. Superusers are administrators and may do everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.checks import Error
from django.db.models import Q, QuerySet

from .choices import ReviewStatus
from .models.incidents import counted_filter

DATA_ENTRY = "Data entry"
REVIEWER = "Reviewer"
RESEARCHER = "Researcher"

_EDIT_RECORDS = [
    "sources.add_source", "sources.change_source", "sources.view_source",
    "sources.add_report", "sources.change_report", "sources.view_report",
    "casualties.add_incident", "casualties.change_incident", "casualties.view_incident",
    "casualties.submit_incident",
    "casualties.add_incidentactor", "casualties.change_incidentactor", "casualties.delete_incidentactor",
    "casualties.view_incidentactor",
    "casualties.add_casualtytally", "casualties.change_casualtytally", "casualties.delete_casualtytally",
    "casualties.view_casualtytally",
    "casualties.add_reportingperiod", "casualties.change_reportingperiod", "casualties.view_reportingperiod",
    "casualties.view_region", "casualties.view_actor", "casualties.view_actorname",
    "casualties.view_incidenttype", "casualties.view_estimate",
]  # fmt: skip

_READ_ALL = [
    "sources.view_source", "sources.view_report",
    "casualties.view_incident", "casualties.view_incidentactor", "casualties.view_casualtytally",
    "casualties.view_reportingperiod", "casualties.view_region", "casualties.view_actor",
    "casualties.view_actorname", "casualties.view_incidenttype", "casualties.view_estimate",
    "casualties.view_unpublished_incident", "casualties.export_data",
]  # fmt: skip

_REVIEW = [
    "casualties.review_incident", "casualties.merge_incident", "casualties.change_reviewed_incident",
    "casualties.view_unpublished_incident", "casualties.delete_incident", "casualties.export_data",
    "casualties.add_actor", "casualties.change_actor", "casualties.add_actorname", "casualties.change_actorname",
    "casualties.delete_actorname", "casualties.delete_reportingperiod",
]  # fmt: skip

# The names settings.OTP_REQUIRED_FOR may list, and the role group each stands for (administrators are superusers).
ADMINISTRATOR = "administrator"
TWO_FACTOR_ROLES: dict[str, str | None] = {
    ADMINISTRATOR: None,
    "reviewer": REVIEWER,
    "data-entry": DATA_ENTRY,
    "researcher": RESEARCHER,
}

ROLE_PERMISSIONS: dict[str, list[str]] = {
    DATA_ENTRY: _EDIT_RECORDS,
    REVIEWER: sorted(set(_EDIT_RECORDS + _REVIEW)),
    RESEARCHER: _READ_ALL,
}


def sync_role_groups(*, group_model=Group, permission_model=Permission, using: str = "default") -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                permission_model.objects.using(using).get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def _is_user(user) -> bool:
    return user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated and user.is_active


def visible_filter(user, prefix: str = "") -> Q | None:
    """The incidents ``user`` may see, as a filter; None means all of them.

    Anonymous clients and users without a role see the public set; data-entry staff see it plus
    their own records; reviewers, researchers and administrators see everything.
    """
    if _is_user(user) and (user.is_superuser or user.has_perm("casualties.view_unpublished_incident")):
        return None
    visible = counted_filter(prefix)
    if _is_user(user) and user.has_perm("casualties.view_incident"):
        visible |= Q(**{f"{prefix}created_by": user})
    return visible


def visible_incidents(user, queryset: QuerySet) -> QuerySet:
    condition = visible_filter(user)
    return queryset if condition is None else queryset.filter(condition)


def can_view_incident(user, incident) -> bool:
    if incident.is_counted:
        return True
    condition = visible_filter(user)
    return condition is None or (
        _is_user(user) and incident.created_by_id == user.pk and user.has_perm("casualties.view_incident")
    )


def can_change_incident(user, incident) -> bool:
    """Data entry edits their own drafts; reviewers edit anything, verified records included."""
    if not _is_user(user):
        return False
    if user.is_superuser or user.has_perm("casualties.change_reviewed_incident"):
        return True
    if not user.has_perm("casualties.change_incident"):
        return False
    if incident.pk is None:
        return True
    return incident.status == ReviewStatus.DRAFT and incident.created_by_id == user.pk


def can_edit_reference(user, model, *, action: str) -> bool:
    """Reference records (periods, gazetteer, actors, vocabularies): the model permission for ``action``
    (add, change, delete) decides."""
    opts = model._meta
    return _is_user(user) and user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")


def can_merge(user) -> bool:
    """Reviewers (and administrators) merge duplicates."""
    return _is_user(user) and (user.is_superuser or user.has_perm("casualties.merge_incident"))


def can_mark_preferred(user) -> bool:
    """Only a reviewer chooses which report's figure is an incident's best estimate."""
    return _is_user(user) and (user.is_superuser or user.has_perm("casualties.review_incident"))


def can_export_unpublished(user) -> bool:
    """Researchers, reviewers and administrators may export beyond the public set."""
    return _is_user(user) and (user.is_superuser or user.has_perm("casualties.export_data"))


def can_read_export_log(user) -> bool:
    """Who exported what is for administrators."""
    return _is_user(user) and user.is_superuser


# (from, to) -> the permission it needs; verification also needs a second person.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED): "casualties.submit_incident",
    (ReviewStatus.SUBMITTED, ReviewStatus.VERIFIED): "casualties.review_incident",
    (ReviewStatus.SUBMITTED, ReviewStatus.REJECTED): "casualties.review_incident",
    (ReviewStatus.SUBMITTED, ReviewStatus.DRAFT): "casualties.review_incident",
    (ReviewStatus.DRAFT, ReviewStatus.REJECTED): "casualties.review_incident",
    (ReviewStatus.VERIFIED, ReviewStatus.REJECTED): "casualties.review_incident",
    (ReviewStatus.REJECTED, ReviewStatus.DRAFT): "casualties.review_incident",
}


# Verifying and rejecting are judgements on someone else's work: the four-eyes rule applies to them.
JUDGEMENTS = (ReviewStatus.VERIFIED, ReviewStatus.REJECTED)


def four_eyes_refusal(user, incident) -> str | None:
    """Nobody verifies or rejects an incident they created or last changed, administrators included."""
    if user.pk == incident.created_by_id:
        return "An incident is verified or rejected by a colleague, not by the person who entered it."
    if user.pk == incident.updated_by_id:
        return "You made the last change to this incident, so a colleague must verify or reject it (four-eyes rule)."
    return None


def transition_refusal(user, incident, to_status: str) -> str | None:
    """Why ``user`` may not move ``incident`` to ``to_status``, or None if they may."""
    if incident.duplicate_of_id is not None:
        return "This incident was merged into another; review that one instead."
    required = TRANSITIONS.get((incident.status, to_status))
    if required is None:
        return f"An incident cannot go from {incident.get_status_display().lower()} to {to_status}."
    if not _is_user(user):
        return "You must be logged in."
    if not user.is_superuser and not user.has_perm(required):
        return f"You do not have permission to move incidents to {to_status}."
    if to_status in JUDGEMENTS and (refusal := four_eyes_refusal(user, incident)):
        return refusal
    if user.is_superuser:
        return None
    if required == "casualties.submit_incident" and not can_change_incident(user, incident):
        return "Only the author of a draft or a reviewer can submit it."
    return None


def allowed_transitions(user, incident) -> list[str]:
    """The review steps ``user`` may take on ``incident`` (none on a merged duplicate)."""
    return [to for (frm, to) in TRANSITIONS if frm == incident.status and not transition_refusal(user, incident, to)]


def can_see_tally(user, tally) -> bool:
    """A period total is public reference data; a figure about an incident is seen by whoever sees the incident."""
    return tally.incident_id is None or can_view_incident(user, tally.incident)


def can_see_staff_notes(user) -> bool:
    """A figure's notes are the data team's working notes: for the roles that work with figures, not the public."""
    return _is_user(user) and (user.is_superuser or user.has_perm("casualties.view_casualtytally"))


def can_change_figures(user, incident) -> bool:
    """Whoever may edit an incident adds, changes and deletes the figures about it."""
    return _is_user(user) and user.has_perm("casualties.change_casualtytally") and can_change_incident(user, incident)


def _is_reviewer(user) -> bool:
    """Reviewers (and administrators) edit verified records and the reports and period totals behind them."""
    return _is_user(user) and (user.is_superuser or user.has_perm("casualties.change_reviewed_incident"))


def can_add_period_total(user) -> bool:
    """Period totals belong to no incident: anyone who enters figures may enter a new one."""
    return _is_user(user) and (user.is_superuser or user.has_perm("casualties.add_casualtytally"))


def can_change_period_total(user) -> bool:
    """A period total is public from the moment it is entered (it has no draft), so correcting or deleting one, or
    turning it into an incident's figure, is a reviewer's change."""
    return _is_reviewer(user) and (user.is_superuser or user.has_perm("casualties.change_casualtytally"))


def period_change_refusal(user, *, period_total_count: int) -> str | None:
    """Why ``user`` may not change a reporting period that ``period_total_count`` period totals cover, or None.

    A period no total uses yet is anyone's to correct; moving the dates of one in use moves every total over it,
    whatever its source, so it is a reviewer's change."""
    if period_total_count and not _is_reviewer(user):
        return (
            f"{period_total_count} period total(s) cover this reporting period, and changing its dates would change "
            "them; a reviewer must make this change."
        )
    return None


def report_change_refusal(user, *, report, incidents: Iterable, period_total_count: int) -> str | None:
    """Why ``user`` may not change ``report``, or None if they may.

    ``incidents`` are the incidents whose figures cite the report, ``period_total_count`` the period totals that
    do: what a change to the report (its source, date, address) would change. Reviewers change any report. Data
    entry change a report only while every figure that cites it is in a draft of theirs, and, when none cites it
    yet, only a report they entered: a report that public or submitted figures cite, or that a colleague's draft
    cites, is changed by a reviewer.
    """
    if not (_is_user(user) and (user.is_superuser or user.has_perm("sources.change_report"))):
        return "Your role may not enter or change reports."
    if _is_reviewer(user):
        return None
    if period_total_count:
        return (
            f"{period_total_count} period total(s) cite this report and are public figures; a reviewer must make "
            "this change."
        )
    incidents = list(incidents)
    others = [incident for incident in incidents if not can_change_incident(user, incident)]
    if others:
        named = ", ".join(f"{i.public_id} ({i.get_status_display().lower()})" for i in others[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        return (
            f"Figures of incidents you may not edit cite this report: {named}{more}. Changing the report would "
            "change their figures; a reviewer must make this change."
        )
    if not incidents and report.created_by_id != user.pk:
        return "Only the person who entered this report, or a reviewer, may change it while no figure cites it."
    return None


def must_use_two_factor(user) -> bool:
    """Whoever holds a role listed in settings.OTP_REQUIRED_FOR logs in with a one-time code as well as the
    password (reviewers and administrators by default); for everyone else a second factor is optional."""
    if not _is_user(user):
        return False
    required = set(settings.OTP_REQUIRED_FOR)
    if ADMINISTRATOR in required and user.is_superuser:
        return True
    groups = [TWO_FACTOR_ROLES[name] for name in required if TWO_FACTOR_ROLES.get(name)]
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def lacks_required_second_factor(user) -> bool:
    """A session that passed only the password although the user's role needs a one-time code counts as no login
    (the admin and the API's session authentication both ask). Token API clients are not asked."""
    is_verified = getattr(user, "is_verified", None)
    return must_use_two_factor(user) and not (is_verified is not None and is_verified())


def check_two_factor_roles(app_configs=None, **kwargs) -> list[Error]:
    """A misspelt role in OTP_REQUIRED_FOR would silently let that role log in without a second factor."""
    unknown = sorted(set(settings.OTP_REQUIRED_FOR) - set(TWO_FACTOR_ROLES))
    if not unknown:
        return []
    return [
        Error(
            f"OTP_REQUIRED_FOR names unknown roles: {', '.join(unknown)}.",
            hint=f"Use any of: {', '.join(TWO_FACTOR_ROLES)}.",
            id="casualties.E001",
        )
    ]
