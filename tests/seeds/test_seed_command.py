import io

import pytest
from django.core.management import CommandError, call_command

from casualties.models import Incident
from seeds.sync import SeedDataError

pytestmark = pytest.mark.django_db


def test_the_seed_command_prints_what_it_did_per_kind():
    out = io.StringIO()
    call_command("seed", stdout=out)
    call_command("seed", stdout=out)
    lines = out.getvalue().splitlines()
    assert "sources: 13 created, 0 updated, 0 unchanged" in lines
    assert "sources: 0 created, 0 updated, 13 unchanged" in lines
    assert "regions, district (admin2): 0 created, 0 updated, 62 unchanged" in lines


def test_the_seed_command_reports_a_data_error_without_a_traceback(monkeypatch):
    def broken(**kwargs):
        raise SeedDataError("sources.yaml: bad entry")

    monkeypatch.setattr("seeds.management.commands.seed.seed", broken)
    with pytest.raises(CommandError, match=r"Nothing was loaded: sources\.yaml: bad entry"):
        call_command("seed")


def test_the_seed_command_loads_the_demo_only_when_asked():
    out = io.StringIO()
    call_command("seed", stdout=out)
    assert not Incident.objects.exists()
    call_command("seed", "--demo", stdout=out)
    assert Incident.objects.count() == 6
    assert "demo incidents: 6 created, 0 updated, 0 unchanged" in out.getvalue().splitlines()
