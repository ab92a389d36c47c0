"""The role groups survive what empties the auth tables: a flush between transactional tests."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from casualties.roles import DATA_ENTRY, RESEARCHER, REVIEWER, ROLE_PERMISSIONS


@pytest.mark.django_db(transaction=True)
def test_a_flush_leaves_the_role_groups_with_exactly_their_permissions():
    call_command("flush", "--noinput", verbosity=0)
    groups = {group.name: group for group in Group.objects.prefetch_related("permissions__content_type")}
    assert set(groups) == {DATA_ENTRY, REVIEWER, RESEARCHER}
    for name, perms in ROLE_PERMISSIONS.items():
        held = {f"{p.content_type.app_label}.{p.codename}" for p in groups[name].permissions.all()}
        assert held == set(perms), name


@pytest.mark.django_db
def test_migrate_restores_a_role_permission_removed_by_hand():
    reviewer = Group.objects.get(name=REVIEWER)
    reviewer.permissions.remove(*reviewer.permissions.filter(codename="review_incident"))
    call_command("migrate", verbosity=0)
    assert reviewer.permissions.filter(codename="review_incident").exists()
