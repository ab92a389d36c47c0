"""The incident page, where data-entry staff turn a report into records and reviewers check them."""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.admin import ServiceRefusalsMixin
from core.history import AuditHistoryMixin

from ..admin_exports import IncidentCsvExportMixin
from ..choices import ReviewStatus
from ..duplicates import TEXT_SIMILARITY, incident_possible_duplicates
from ..forms import IncidentForm, TallyForm, TallyInlineFormSet
from ..models import CasualtyTally, Incident, IncidentActor, Region
from ..roles import allowed_transitions, can_change_incident, can_mark_preferred, can_merge, visible_incidents
from ..search import incident_text_search
from ..services import (
    StaleVersionError,
    incident_actors_set,
    incident_figures_save,
    incident_merge,
    incident_save,
    incident_transition,
    write_scope,
)
from .common import EstimatedCountPaginator, RegionAutocompleteSelect, formset_changes, region_search
from .filters import CountryFilter, GovernorateFilter, ReviewStateFilter, SourceFilter

# The verb each review action is reported with.
TRANSITION_VERBS = {
    ReviewStatus.SUBMITTED: "Submitted for review",
    ReviewStatus.VERIFIED: "Verified",
    ReviewStatus.REJECTED: "Rejected",
    ReviewStatus.DRAFT: "Returned to draft",
}
# The label of the button that takes each step.
STEP_LABELS = {
    ReviewStatus.SUBMITTED: "Submit for review",
    ReviewStatus.VERIFIED: "Verify",
    ReviewStatus.REJECTED: "Reject",
    ReviewStatus.DRAFT: "Return to draft",
}


class ParentEditableInline:
    """An inline that may change only when its incident may: a data-entry user's own draft, or any for reviewers."""

    def _parent_editable(self, request, obj) -> bool:
        return obj is None or can_change_incident(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._parent_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._parent_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._parent_editable(request, obj)


class TallyInline(ParentEditableInline, admin.TabularInline):
    model = CasualtyTally
    fk_name = "incident"
    form = TallyForm
    formset = TallyInlineFormSet
    fields = [
        "report",
        "outcome",
        "status",
        "group",
        "low",
        "best",
        "high",
        "qualifier",
        "reported_phrase",
        "loaded_at",
    ]
    autocomplete_fields = ["report"]
    extra = 1
    verbose_name = "casualty figure"
    verbose_name_plural = "Casualty figures (type only best if the report gives one number)"

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if can_mark_preferred(request.user):
            fields.append("is_preferred")
        return fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("report__source")


class IncidentActorInline(ParentEditableInline, admin.TabularInline):
    model = IncidentActor
    fields = ["actor", "role"]
    autocomplete_fields = ["actor"]
    extra = 1
    verbose_name = "actor"
    verbose_name_plural = "Actors and their roles"


@admin.register(Incident)
class IncidentAdmin(ServiceRefusalsMixin, IncidentCsvExportMixin, AuditHistoryMixin, admin.ModelAdmin):
    form = IncidentForm
    inlines = [TallyInline, IncidentActorInline]
    list_display = ["title", "date_start", "date_end", "region", "incident_type", "review_state"]
    list_display_links = ["title"]
    list_select_related = ["region", "incident_type"]
    list_filter = [
        ReviewStateFilter,
        "incident_type",
        CountryFilter,
        GovernorateFilter,
        SourceFilter,
        ("date_start", admin.DateFieldListFilter),
    ]
    date_hierarchy = "date_start"
    search_fields = ["title"]
    search_help_text = "Title, description, public id, place as reported, or region name in any spelling."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = ["submit_selected", "verify_selected", "reject_selected"]
    history_includes_related = True
    change_form_template = "admin/casualties/incident/change_form.html"
    readonly_fields = [
        "public_id",
        "estimates_panel",
        "version",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
        "reviewed_by",
        "reviewed_at",
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["title", "description", "incident_type", "loaded_version"]}),
            ("When", {"fields": [("date_start", "date_end"), "date_precision"]}),
            ("Where", {"fields": ["region", "place_name", "location_precision", ("latitude", "longitude")]}),
        ]
        if obj is not None:
            fieldsets += [
                ("Current estimates", {"fields": ["estimates_panel"]}),
                (
                    "Record",
                    {
                        "classes": ["collapse"],
                        "fields": [
                            "public_id",
                            "version",
                            ("created_by", "created_at"),
                            ("updated_by", "updated_at"),
                            ("reviewed_by", "reviewed_at"),
                        ],
                    },
                ),
            ]
        return fieldsets

    # Who sees and changes what: casualties.roles decides.

    def get_queryset(self, request):
        return visible_incidents(request.user, super().get_queryset(request))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_change_incident(request.user, obj))

    def has_submit_permission(self, request):
        return request.user.has_perm("casualties.submit_incident")

    def has_review_permission(self, request):
        return request.user.has_perm("casualties.review_incident")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["widget"] = RegionAutocompleteSelect(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(public_id=uuid.UUID(term)), False
        except ValueError:
            pass
        matching_regions = region_search(Region.objects.all(), term).values_list("path", flat=True)[:20]
        in_regions = Q()
        for region_path in matching_regions:
            in_regions |= Q(path__startswith=region_path)
        text = incident_text_search(term)
        if in_regions:
            # A list of ids (not a subquery) lets PostgreSQL combine this with the text indexes.
            text |= Q(region_id__in=list(Region.objects.filter(in_regions).values_list("pk", flat=True)))
        return queryset.filter(text), False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The incident and its figures and actors saved from one page are one write: one new version.
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with write_scope():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # The form already holds the row lock and checked the version it was loaded at.
        incident_save(incident=obj, user=request.user, expected_version=obj.version if change else None)

    def save_formset(self, request, form, formset, change):
        saves, deletes = formset_changes(formset)
        if formset.model is IncidentActor:
            kept = [f for f in formset.forms if f.cleaned_data.get("actor") and f not in formset.deleted_forms]
            incident_actors_set(
                user=request.user,
                incident=form.instance,
                actors=[(f.cleaned_data["actor"].pk, f.cleaned_data["role"]) for f in kept],
            )
            return
        incident_figures_save(
            user=request.user,
            incident=form.instance,
            saves=saves,
            deletes=deletes,
            read_at={f.instance.pk: f.cleaned_data.get("loaded_at") for f in formset.forms if f.instance.pk},
        )

    # Read-only panels.

    @admin.display(description="Status", ordering="status")
    def review_state(self, obj: Incident) -> str:
        return obj.review_state

    @admin.display(description="Merged into this")
    def merged_from(self, obj: Incident) -> str:
        merged = list(obj.duplicates.order_by("pk"))
        if not merged:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a>', ((self._change_url(m.pk), m) for m in merged))

    @admin.display(description="Merged into")
    def merged_into(self, obj: Incident) -> str:
        if obj.duplicate_of_id is None:
            return "—"
        url = reverse("admin:casualties_incident_change", args=[obj.duplicate_of_id])
        return format_html('<a href="{}">{}</a>', url, obj.duplicate_of)

    @admin.display(description="Estimates")
    def estimates_panel(self, obj: Incident) -> str:
        estimates = list(obj.estimates.order_by("outcome", "status", "group"))
        counts = obj.tallies.aggregate(sources=Count("source", distinct=True), reports=Count("report", distinct=True))
        summary = format_html(
            '<p class="estimates-sources">Figures from {} source(s) in {} report(s).</p>',
            counts["sources"],
            counts["reports"],
        )
        if not estimates:
            return format_html("{}<p>No figures yet.</p>", summary)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    e.get_outcome_display(),
                    e.get_status_display(),
                    e.get_group_display(),
                    e.low,
                    e.best,
                    e.high,
                    e.source_count,
                )
                for e in estimates
            ),
        )
        return format_html(
            '{}<table class="estimates"><thead><tr><th>Outcome</th><th>Status</th><th>Group</th><th>Low</th>'
            "<th>Best</th><th>High</th><th>Sources</th></tr></thead><tbody>{}</tbody></table>",
            summary,
            rows,
        )

    def _workflow_buttons(self, request, obj: Incident) -> str:
        return format_html_join(
            " ",
            '<button type="submit" class="button workflow-{}" formaction="{}" formnovalidate>{}</button>',
            (
                (to, reverse("admin:casualties_incident_transition", args=[obj.pk, to]), STEP_LABELS[to])
                for to in allowed_transitions(request.user, obj)
            ),
        )

    def _duplicate_items(self, request, obj: Incident) -> list[str]:
        candidates = visible_incidents(request.user, Incident.objects.all())
        found = incident_possible_duplicates(incident=obj, limit=10, candidates=candidates)
        may_merge = obj.duplicate_of_id is None and can_merge(request.user)
        items = []
        for other in found:
            reasons = [
                label
                for label, holds in (
                    ("same area", other.same_region),
                    ("shared actor", other.shared_actor),
                    (f"similar text {other.text_similarity:.2f}", other.text_similarity >= TEXT_SIMILARITY),
                )
                if holds
            ]
            merge = (
                format_html(
                    ' <button type="submit" class="button merge-button" formaction="{}" formnovalidate>'
                    "Merge this incident into it</button>",
                    reverse("admin:casualties_incident_merge", args=[obj.pk, other.pk]),
                )
                if may_merge
                else ""
            )
            items.append(
                format_html(
                    '<li><a href="{}">{}</a> — {} to {}, {}, {} ({}){}</li>',
                    self._change_url(other.pk),
                    other.title,
                    other.date_start,
                    other.date_end,
                    other.region,
                    other.review_state.lower(),
                    ", ".join(reasons),
                    merge,
                )
            )
        return items

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if obj is not None:
            # Worked out when the page is drawn, not for a save that redirects: the duplicate search alone is
            # some tens of milliseconds.
            context.update(
                review_status=obj.review_state,
                merged_into=SimpleLazyObject(lambda: self.merged_into(obj)),
                merged_from=SimpleLazyObject(lambda: self.merged_from(obj)),
                workflow_buttons=SimpleLazyObject(lambda: self._workflow_buttons(request, obj)),
                duplicate_items=SimpleLazyObject(lambda: self._duplicate_items(request, obj)),
            )
        return super().change_view(request, object_id, form_url, context)

    # Review workflow: bulk actions and the buttons on the incident page call the same service.

    def _transition(self, request, incidents, to_status: str) -> None:
        done, refused = 0, []
        for incident in incidents:
            try:
                incident_transition(incident=incident, to_status=to_status, user=request.user)
                done += 1
            except PermissionDenied as error:
                refused.append(f"“{incident.title}”: {error}")
        if done:
            self.message_user(request, f"{TRANSITION_VERBS[to_status]}: {done} incident(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"Refused for {len(refused)} incident(s): " + " ".join(refused), messages.WARNING
            )

    @admin.action(description="Submit selected drafts for review", permissions=["submit"])
    def submit_selected(self, request, queryset):
        self._transition(request, queryset.order_by("pk"), ReviewStatus.SUBMITTED)

    @admin.action(description="Verify selected incidents", permissions=["review"])
    def verify_selected(self, request, queryset):
        self._transition(request, queryset.order_by("pk"), ReviewStatus.VERIFIED)

    @admin.action(description="Reject selected incidents", permissions=["review"])
    def reject_selected(self, request, queryset):
        self._transition(request, queryset.order_by("pk"), ReviewStatus.REJECTED)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/transition/<str:to_status>/",
                wrap(require_POST(self.transition_view)),
                name="casualties_incident_transition",
            ),
            path(
                "<int:object_id>/merge-into/<int:into_id>/",
                wrap(require_POST(self.merge_view)),
                name="casualties_incident_merge",
            ),
            *super().get_urls(),
        ]

    def _change_url(self, pk: int) -> str:
        return reverse("admin:casualties_incident_change", args=[pk])

    def transition_view(self, request, object_id: int, to_status: str):
        incident = get_object_or_404(self.get_queryset(request), pk=object_id)
        if to_status not in TRANSITION_VERBS:
            self.message_user(request, f"“{to_status}” is not a review status.", messages.ERROR)
            return redirect(self._change_url(incident.pk))
        loaded = request.POST.get("loaded_version", "")
        try:
            incident_transition(
                incident=incident,
                to_status=to_status,
                user=request.user,
                expected_version=int(loaded) if loaded.isdigit() else None,
            )
        except (PermissionDenied, StaleVersionError) as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"{TRANSITION_VERBS[to_status]}: “{incident.title}”.", messages.SUCCESS)
        return redirect(self._change_url(incident.pk))

    def merge_view(self, request, object_id: int, into_id: int):
        visible = self.get_queryset(request)
        duplicate = get_object_or_404(visible, pk=object_id)
        into = get_object_or_404(visible, pk=into_id)
        try:
            incident_merge(duplicate=duplicate, into=into, user=request.user)
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect(self._change_url(duplicate.pk))
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(self._change_url(duplicate.pk))
        self.message_user(
            request, f"Merged “{duplicate.title}” into this incident; its figures moved here.", messages.SUCCESS
        )
        return redirect(self._change_url(into.pk))
