from django.apps import AppConfig
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
        post_migrate.connect(grant_service_role_after_migrate, sender=self, dispatch_uid="casualties_service_role")
