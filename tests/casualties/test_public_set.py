"""The public set has one definition (PUBLIC_SET); its Q, its SQL for triggers and the SQL function agree with it."""

import itertools

import pytest
from django.db import connection

from casualties.choices import ReviewStatus
from casualties.models import Incident
from casualties.models.incidents import PUBLIC_SET, counted_filter, public_sql
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_the_q_the_trigger_sql_the_sql_function_and_the_object_test_agree_on_every_incident():
    survivor = IncidentFactory(status=ReviewStatus.VERIFIED)
    for status, merged in itertools.product(ReviewStatus.values, [False, True]):
        IncidentFactory(status=status, duplicate_of=survivor if merged else None)
    everyone = list(Incident.objects.order_by("pk"))
    by_q = set(Incident.objects.filter(counted_filter()).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM casualties_incident i WHERE {public_sql('i')}")
        by_trigger_sql = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT id FROM casualties_incident WHERE casualties_incident_is_public(status, duplicate_of_id)"
        )
        by_function = {row[0] for row in cursor.fetchall()}
    by_object = {incident.pk for incident in everyone if incident.is_counted}
    # The brute-force reference: the rule read literally from its one definition.
    reference = {i.pk for i in everyone if i.status == PUBLIC_SET["status"] and i.duplicate_of_id is None}

    assert len(reference) == 2
    assert by_q == by_trigger_sql == by_function == by_object == reference


def test_the_sql_function_is_inlined_so_queries_plan_as_if_the_condition_were_written_out():
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (VERBOSE) SELECT id FROM casualties_incident "
            "WHERE casualties_incident_is_public(status, duplicate_of_id)"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "casualties_incident_is_public" not in plan
    assert "'verified'" in plan
