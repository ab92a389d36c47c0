from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.core import checks
from django.db.models.signals import post_migrate


def sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    """Keep the role groups and their permissions as casualties.roles defines them.

    Runs after every migrate (so a change to ROLE_PERMISSIONS reaches existing databases) and after
    a test flush, which empties the groups table along with everything else.
    """
    from .roles import sync_role_groups

    sync_role_groups(using=using)


def grant_service_role_after_migrate(sender, using="default", **kwargs) -> None:
    """Grant the service's database role what it needs on every table, those of this migrate included."""
    from django.conf import settings

    from .service_role import service_role_grant

    service_role_grant(role=settings.DATABASE_SERVICE_ROLE, using=using)


class CasualtiesConfig(AppConfig):
    name = "casualties"
    verbose_name = "Casualties"

    def ready(self) -> None:
        # Sent for this app after Django has created its permissions (auth connects first).
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="casualties_sync_roles")
        # Figures cite reports: a change to a report obeys the rules of the figures that depend on it.
        from sources.services import register_report_guard

        from .services.reports import FIGURES_CITE_REPORTS

        register_report_guard(FIGURES_CITE_REPORTS)
        # A misspelt role in OTP_REQUIRED_FOR is an error at start-up, not a silent gap.
        from .roles import check_two_factor_roles

        checks.register(check_two_factor_roles)
        # Each migrate grants the service role what it needs and no more (casualties/service_role.py).
        post_migrate.connect(grant_service_role_after_migrate, sender=self, dispatch_uid="casualties_service_role")


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, served by the site that asks staff for a one-time code (casualties.admin_site)."""

    default = False  # named in INSTALLED_APPS in place of django.contrib.admin; CasualtiesConfig stays this app's

    default_site = "casualties.admin_site.StaffAdminSite"
