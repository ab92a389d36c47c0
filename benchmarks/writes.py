"""Write benchmarks: what data entry and review do, in the busiest district and month, beside the same rows
written by hand.

Each write is timed through the service layer (``casualties.services``), through the admin (a real POST of
the page, logged in, in-process: the server's time) and, where the API has the action, through the API with
a token. The baseline writes the same rows with hand-written SQL on a psycopg connection of its own, in one
transaction with the fewest statements that produce them; the database's triggers fire for it as they fire
for the service (estimates, summary cells, audit events, the deferred of-which check at commit). So the
ratio is what the service adds to the database's own work for those rows, and the growth from 100k to 1M
incidents shows any trigger whose work grows with the table.

Rows the benchmark creates carry a title starting ``[benchmark]`` and are deleted when the group ends (and
at its start, should an earlier run have been interrupted).
"""

from __future__ import annotations

import datetime
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from casualties import services
from casualties.choices import CasualtyGroup, DatePrecision, ReviewStatus
from casualties.models import CasualtyTally, Incident
from casualties.models.incidents import PRECISION_FOR_LEVEL

from .harness import Result

WRITE_LIMIT = 3.0  # service / the same rows by hand
ADMIN_SAVE_LIMIT_MS = 150.0  # server time of an admin save
TITLE = "[benchmark]"
COUNTED = "i.status = 'verified' AND i.duplicate_of_id IS NULL"
# Three figures from one report, one of them an of-which subgroup of another (the deferred check's case).
NEW_FIGURES = (
    ("killed", "civilian", CasualtyGroup.ALL, 12),
    ("killed", "civilian", CasualtyGroup.CHILDREN, 4),
    ("injured", "civilian", CasualtyGroup.ALL, 30),
)
# Figures are written by the figure services: a new incident's with incident_figures_save (as its page
# saves them), an edit with tally_update.
FIGURE_PATH = "figures by services.incident_figures_save / tally_update"


@dataclass
class Scene:
    """The busiest district (admin2) and month of the counted incidents, and what a write there needs."""

    district_id: int
    district_path: str
    month: datetime.date
    day: datetime.date
    location_precision: str
    incident_type_id: int
    report_ids: list[int]
    actor_id: int | None
    user: object
    admin: Client
    api: Client
    incidents_in_cell: int
    # A verified incident's figure for all, for the edits; two of them, in two incidents, for the two writers.
    figures: list[tuple[int, int]] = field(default_factory=list)  # (tally id, incident id)
    to_verify: int | None = None


def pick_scene(raw) -> Scene:
    def one(sql: str, params: list | None = None):
        with raw.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchone()

    def rows(sql: str, params: list | None = None):
        with raw.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchall()

    user, _ = get_user_model().objects.get_or_create(
        username="benchmark-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    district_path, month, count = one(
        f"""SELECT array_to_string((string_to_array(r.path, '/'))[1:3], '/') || '/', date_trunc('month',
                   i.date_start::timestamp)::date, count(*)
              FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
             WHERE {COUNTED} AND r.level >= 2 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1"""
    )
    district_id, level = one("SELECT id, level FROM casualties_region WHERE path = %s", [district_path])
    in_cell = f"""{COUNTED} AND i.date_start >= %s AND i.date_start < (%s::date + interval '1 month')
                  AND i.region_id IN (SELECT id FROM casualties_region WHERE path LIKE %s)"""
    cell = [month, month, f"{district_path}%"]
    day = one(f"SELECT max(i.date_start) FROM casualties_incident i WHERE {in_cell}", cell)[0]
    figures = rows(
        f"""SELECT DISTINCT ON (i.id) t.id, i.id FROM casualties_incident i
              JOIN casualties_casualtytally t ON t.incident_id = i.id AND t.casualty_group = 'all'
             WHERE {in_cell} ORDER BY i.id, t.id LIMIT 2""",
        cell,
    )
    figure_incidents = [incident for _, incident in figures]
    to_verify = one(
        """SELECT i.id FROM casualties_incident i
             WHERE i.duplicate_of_id IS NULL AND i.date_start >= %s AND i.date_start < (%s::date + interval '1 month')
               AND i.region_id IN (SELECT id FROM casualties_region WHERE path LIKE %s) AND NOT i.id = ANY(%s)
               AND i.title NOT LIKE %s AND i.created_by_id IS DISTINCT FROM %s
             ORDER BY i.status = 'submitted' DESC, i.id LIMIT 1""",
        [*cell, figure_incidents, f"{TITLE}%", user.pk],
    )
    incident_type_id = one("SELECT id FROM casualties_incidenttype ORDER BY id LIMIT 1")[0]
    report_ids = [r for (r,) in rows("SELECT id FROM sources_report ORDER BY id LIMIT 3")]
    actor = one("SELECT id FROM casualties_actor ORDER BY id LIMIT 1")
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    admin = Client()
    admin.force_login(user)
    return Scene(
        district_id=district_id,
        district_path=district_path,
        month=month,
        day=day,
        location_precision=PRECISION_FOR_LEVEL[level],
        incident_type_id=incident_type_id,
        report_ids=report_ids,
        actor_id=actor[0] if actor else None,
        user=user,
        admin=admin,
        api=Client(HTTP_AUTHORIZATION=f"Token {token.key}"),
        incidents_in_cell=count,
        figures=figures,
        to_verify=to_verify[0] if to_verify else None,
    )


# -- what was written, to compare the service's rows with the baseline's ----------------------------------


def described(raw, incident_id: int) -> dict:
    """The rows a write leaves for one incident, without ids, clock times and the version (which every earlier
    write moved): equal for equal work."""

    def rows(sql: str) -> list[tuple]:
        with raw.cursor() as cursor:
            cursor.execute(sql, [incident_id])
            return cursor.fetchall()

    return {
        "incident": rows(
            """SELECT title, description, date_start, date_end, date_precision, region_id, place_name, latitude,
                      longitude, location_precision, incident_type_id, status, external_id, created_by_id,
                      updated_by_id, reviewed_by_id, reviewed_at IS NOT NULL, duplicate_of_id IS NOT NULL
                 FROM casualties_incident WHERE id = %s"""
        ),
        "tallies": rows(
            """SELECT report_id, outcome, status, casualty_group, low, best, high, qualifier, reported_phrase,
                      is_preferred, notes, source_id FROM casualties_casualtytally WHERE incident_id = %s
                ORDER BY 1, 2, 3, 4"""
        ),
        "estimates": rows(
            """SELECT outcome, status, casualty_group, low, best, high, source_count FROM casualties_estimate
                WHERE incident_id = %s ORDER BY 1, 2, 3"""
        ),
        "actors": rows("SELECT actor_id, role FROM casualties_incidentactor WHERE incident_id = %s ORDER BY 1, 2"),
    }


# -- the writes ---------------------------------------------------------------------------------------------


Statements = list[tuple[str, list]]


# The hand-written transaction names itself as one write, as the services do (casualties/services/base.py), so
# the database raises an incident's version once for it however many of its rows the statements touch.
WRITE_MARK = "SELECT set_config('casualties.write', md5(random()::text), true)"
WRITE_MARK_END = "SELECT set_config('casualties.write', '', true)"


def run_statements(raw, statements: Statements) -> list:
    """The hand-written statements in one transaction (a savepoint if one is open), named as one write; each
    statement's first row."""
    out = []
    with raw.transaction(), raw.cursor() as cursor:
        cursor.execute(WRITE_MARK)
        for sql, params in statements:
            cursor.execute(sql, params)
            out.append(cursor.fetchone() if cursor.description else None)
        cursor.execute(WRITE_MARK_END)
    return out


def service_new_incident(scene: Scene, title: str) -> int:
    # One write, as the admin's page saves the incident with its figures.
    with services.write_scope():
        incident = services.incident_save(incident=_new_incident(scene, title), user=scene.user)
        figures = [
            CasualtyTally(
                incident=incident,
                report_id=scene.report_ids[0],
                outcome=outcome,
                status=status,
                group=group,
                low=best,
                best=best,
                high=best,
            )
            for outcome, status, group, best in NEW_FIGURES
        ]
        services.incident_figures_save(user=scene.user, incident=incident, saves=figures)
    return incident.pk


def _new_incident(scene: Scene, title: str) -> Incident:
    return Incident(
        title=title,
        date_start=scene.day,
        date_end=scene.day,
        date_precision=DatePrecision.DAY,
        region_id=scene.district_id,
        location_precision=scene.location_precision,
        incident_type_id=scene.incident_type_id,
    )


def baseline_new_incident(
    scene: Scene, title: str, *, report_id: int | None = None, figures=NEW_FIGURES, status: str = "draft"
) -> Statements:
    """INSERT the incident, then its 3 figures in one INSERT (the report's source is filled by its trigger)."""
    one = (
        "(%s, currval(pg_get_serial_sequence('casualties_incident', 'id')), %s, %s, %s, %s, %s, %s,"
        " 'exact', '', false, '', now(), now())"
    )
    params = []
    for outcome, casualty_status, group, best in figures:
        params += [report_id or scene.report_ids[0], outcome, casualty_status, group, best, best, best]
    return [
        (
            """INSERT INTO casualties_incident (public_id, title, description, date_start, date_end, date_precision,
                   place_name, location_precision, status, external_id, version, created_at, updated_at,
                   created_by_id, updated_by_id, incident_type_id, region_id)
               VALUES (gen_random_uuid(), %s, '', %s, %s, 'day', '', %s, %s, '', 1, now(), now(), %s, %s, %s, %s)
               RETURNING id""",
            [
                title,
                scene.day,
                scene.day,
                scene.location_precision,
                status,
                scene.user.pk,
                scene.user.pk,
                scene.incident_type_id,
                scene.district_id,
            ],
        ),
        (
            f"""INSERT INTO casualties_casualtytally (report_id, incident_id, outcome, status, casualty_group, low,
                    best, high, qualifier, reported_phrase, is_preferred, notes, created_at, updated_at)
                VALUES {", ".join([one] * len(figures))}""",
            params,
        ),
    ]


def _admin_log(scene: Scene, object_id_sql: str, flag: int) -> tuple[str, list]:
    return (
        f"""INSERT INTO django_admin_log (action_time, user_id, content_type_id, object_id, object_repr,
                action_flag, change_message)
            SELECT now(), %s, id, ({object_id_sql})::text, %s, %s, '[]' FROM django_content_type
             WHERE app_label = 'casualties' AND model = 'incident'""",
        [scene.user.pk, TITLE, flag],
    )


def admin_new_incident(scene: Scene, title: str) -> int:
    data = _incident_form(_new_incident(scene, title), version=None)
    data |= _formset("tallies", [], extra=len(NEW_FIGURES))
    for index, (outcome, status, group, best) in enumerate(NEW_FIGURES):
        data |= {
            f"tallies-{index}-report": scene.report_ids[0],
            f"tallies-{index}-outcome": outcome,
            f"tallies-{index}-status": status,
            f"tallies-{index}-group": group,
            f"tallies-{index}-best": best,
            f"tallies-{index}-qualifier": "exact",
        }
    data |= _formset("actor_roles", [], extra=0) | {"_continue": "Save and continue editing"}
    response = _post(scene.admin, "/admin/casualties/incident/add/", data)
    return int(re.search(r"/incident/(\d+)/change/", response["Location"]).group(1))


def _incident_form(incident: Incident, *, version: int | None) -> dict:
    return {
        "title": incident.title,
        "description": incident.description,
        "incident_type": incident.incident_type_id,
        "loaded_version": version if version is not None else "",
        "date_start": incident.date_start.isoformat(),
        "date_end": incident.date_end.isoformat(),
        "date_precision": incident.date_precision,
        "region": incident.region_id,
        "place_name": incident.place_name,
        "location_precision": incident.location_precision,
        "latitude": "" if incident.latitude is None else str(incident.latitude),
        "longitude": "" if incident.longitude is None else str(incident.longitude),
    }


def _formset(prefix: str, forms: list[dict], *, extra: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": len(forms) + extra,
        f"{prefix}-INITIAL_FORMS": len(forms),
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for index, form in enumerate(forms):
        data |= {f"{prefix}-{index}-{name}": value for name, value in form.items() if value is not None}
    return data


def _change_form(incident_id: int, changed: dict[int, tuple[int, int]]) -> dict:
    """The incident page as loaded, every field as it is, but the figures in ``changed`` (id -> best, high)."""
    incident = Incident.objects.get(pk=incident_id)
    data = _incident_form(incident, version=incident.version)
    tallies = []
    for t in CasualtyTally.objects.filter(incident_id=incident_id).order_by("pk"):
        best, high = changed.get(t.pk, (t.best, t.high))
        tallies.append(
            {
                "id": t.pk,
                "incident": incident_id,
                "report": t.report_id,
                "outcome": t.outcome,
                "status": t.status,
                "group": t.group,
                "low": t.low,
                "best": best,
                "high": high,
                "qualifier": t.qualifier,
                "reported_phrase": t.reported_phrase,
                "loaded_at": t.updated_at.isoformat(),
                "is_preferred": "on" if t.is_preferred else None,
            }
        )
    actors = [
        {"id": a.pk, "incident": incident_id, "actor": a.actor_id, "role": a.role}
        for a in incident.actor_roles.order_by("pk")
    ]
    return data | _formset("tallies", tallies) | _formset("actor_roles", actors) | {"_save": "Save"}


def _post(client: Client, path: str, data: dict, *, expect: int = 302, json_body: bool = False):
    kwargs = {"content_type": "application/json"} if json_body else {}
    response = client.post(path, data, **kwargs)
    if response.status_code != expect:
        text = response.content.decode(errors="replace")
        errors = re.findall(r'<ul class="errorlist[^"]*">(.*?)</ul>', text, flags=re.S)
        raise RuntimeError(f"POST {path} answered {response.status_code}: {(errors or [text[:300]])[:3]}")
    if response.status_code == 302 and "/login/" in response["Location"]:
        raise RuntimeError(f"POST {path} sent to the login page")
    return response


# Edit one figure: its best and high move up by one, and back on the next run.


class Flip:
    """One figure's best and high: one up, then back, on alternate calls; ``restore()`` puts them back."""

    def __init__(self, raw, tally_id: int):
        self.raw, self.tally_id, self.calls = raw, tally_id, 0
        with raw.cursor() as cursor:
            cursor.execute("SELECT best, high FROM casualties_casualtytally WHERE id = %s", [tally_id])
            self.best, self.high = cursor.fetchone()

    def next(self) -> tuple[int, int]:
        self.calls += 1
        return (self.best + 1, self.high + 1) if self.calls % 2 else (self.best, self.high)

    def restore(self) -> None:
        run_statements(self.raw, [_figure_update(self.tally_id, self.best, self.high)])


def service_edit_figure(scene: Scene, tally_id: int, best: int, high: int) -> None:
    tally = CasualtyTally.objects.get(pk=tally_id)
    services.tally_update(user=scene.user, tally=tally, read_at=tally.updated_at, changes={"best": best, "high": high})


def _figure_update(tally_id: int, best: int, high: int) -> tuple[str, list]:
    return ("UPDATE casualties_casualtytally SET best = %s, high = %s WHERE id = %s", [best, high, tally_id])


def _touch(scene: Scene, incident_id: int) -> tuple[str, list]:
    return (
        "UPDATE casualties_incident SET updated_by_id = %s WHERE id = %s AND updated_by_id IS DISTINCT FROM %s",
        [scene.user.pk, incident_id, scene.user.pk],
    )


def baseline_edit_figure(scene: Scene, incident_id: int, tally_id: int, best: int, high: int) -> Statements:
    """UPDATE the incident's editor (when another), UPDATE the figure's best and high."""
    return [_touch(scene, incident_id), _figure_update(tally_id, best, high)]


def admin_edit_figure(scene: Scene, incident_id: int, tally_id: int, best: int, high: int) -> None:
    _post(
        scene.admin,
        f"/admin/casualties/incident/{incident_id}/change/",
        _change_form(incident_id, {tally_id: (best, high)}),
    )


def baseline_admin_edit_figure(scene: Scene, incident_id: int, tally_id: int, best: int, high: int) -> Statements:
    """UPDATE the incident's editor (when another), UPDATE the figure, INSERT the admin's log entry."""
    return [
        *baseline_edit_figure(scene, incident_id, tally_id, best, high),
        _admin_log(scene, str(int(incident_id)), 2),
    ]


def api_edit_figure(scene: Scene, tally_id: int, best: int, high: int) -> None:
    updated_at = CasualtyTally.objects.values_list("updated_at", flat=True).get(pk=tally_id)
    response = scene.api.patch(
        f"/api/v1/tallies/{tally_id}/",
        {"best": best, "high": high, "updated_at": updated_at.isoformat()},
        content_type="application/json",
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"PATCH /api/v1/tallies/{tally_id}/ answered {response.status_code}: {response.content[:300]!r}"
        )


# Verify one incident (set back to submitted, untimed, between runs).


def service_verify(scene: Scene, incident_id: int) -> None:
    services.incident_transition(
        incident=Incident.objects.get(pk=incident_id), to_status=ReviewStatus.VERIFIED, user=scene.user
    )


def baseline_verify(scene: Scene, incident_id: int) -> Statements:
    """UPDATE the incident's status, reviewer, editor and review time."""
    return [
        (
            """UPDATE casualties_incident SET status = 'verified', updated_by_id = %s, reviewed_by_id = %s,
                   reviewed_at = now() WHERE id = %s""",
            [scene.user.pk, scene.user.pk, incident_id],
        )
    ]


def admin_verify(scene: Scene, incident_id: int) -> None:
    version = Incident.objects.values_list("version", flat=True).get(pk=incident_id)
    _post(scene.admin, f"/admin/casualties/incident/{incident_id}/transition/verified/", {"loaded_version": version})


def api_verify(scene: Scene, incident_id: int) -> None:
    public_id, version = Incident.objects.values_list("public_id", "version").get(pk=incident_id)
    _post(
        scene.api,
        f"/api/v1/incidents/{public_id}/transition/",
        {"status": "verified", "version": version},
        expect=200,
        json_body=True,
    )


def reset_to_submitted(incident_id: int) -> Statements:
    """Back to submitted, last changed by no one (whoever verifies must not be its last editor)."""
    return [
        (
            "UPDATE casualties_incident SET status = 'submitted', reviewed_by_id = NULL, reviewed_at = NULL,"
            " updated_by_id = NULL WHERE id = %s",
            [incident_id],
        )
    ]


# Merge two: a pair of verified incidents made (untimed) for each run, each with its own report's figures.


def make_pair(raw, scene: Scene, title: str) -> tuple[int, int]:
    """Two verified incidents in the scene: the duplicate with an all and an of-which figure and an actor, the
    one that stays with a figure from another report."""
    duplicate = run_statements(
        raw,
        baseline_new_incident(scene, title, report_id=scene.report_ids[1], figures=NEW_FIGURES[:2], status="verified"),
    )[0][0]
    into = run_statements(
        raw,
        baseline_new_incident(scene, title, report_id=scene.report_ids[2], figures=NEW_FIGURES[:1], status="verified"),
    )[0][0]
    if scene.actor_id:
        run_statements(
            raw,
            [
                (
                    "INSERT INTO casualties_incidentactor (incident_id, actor_id, role) VALUES (%s, %s, 'perpetrator')",
                    [duplicate, scene.actor_id],
                )
            ],
        )
    return duplicate, into


def service_merge(scene: Scene, duplicate: int, into: int) -> None:
    services.incident_merge(
        duplicate=Incident.objects.get(pk=duplicate), into=Incident.objects.get(pk=into), user=scene.user
    )


def admin_merge(scene: Scene, duplicate: int, into: int) -> None:
    _post(scene.admin, f"/admin/casualties/incident/{duplicate}/merge-into/{into}/", {})


def baseline_merge(scene: Scene, duplicate: int, into: int) -> Statements:
    """UPDATE the duplicate's figures to the other incident, INSERT its actors there, UPDATE both incidents."""
    return [
        (
            """UPDATE casualties_casualtytally t SET incident_id = %s,
                   is_preferred = t.is_preferred AND NOT EXISTS (SELECT 1 FROM casualties_casualtytally k
                     WHERE k.incident_id = %s AND k.is_preferred AND k.outcome = t.outcome AND k.status = t.status
                       AND k.casualty_group = t.casualty_group)
                WHERE t.incident_id = %s""",
            [into, into, duplicate],
        ),
        (
            """INSERT INTO casualties_incidentactor (incident_id, actor_id, role)
               SELECT %s, d.actor_id, d.role FROM casualties_incidentactor d WHERE d.incident_id = %s
                  AND NOT EXISTS (SELECT 1 FROM casualties_incidentactor k WHERE k.incident_id = %s
                                     AND k.actor_id = d.actor_id AND k.role = d.role)""",
            [into, duplicate, into],
        ),
        (
            """UPDATE casualties_incident SET duplicate_of_id = %s, updated_by_id = %s
                WHERE id = %s OR duplicate_of_id = %s""",
            [into, scene.user.pk, duplicate, duplicate],
        ),
        ("UPDATE casualties_incident SET updated_by_id = %s, updated_at = now() WHERE id = %s", [scene.user.pk, into]),
    ]


def delete_benchmark_rows(raw) -> int:
    """Remove what the write benchmarks created (through the ORM, so the figures and estimates go too)."""
    with raw.cursor() as cursor:
        cursor.execute(
            "UPDATE casualties_incident SET duplicate_of_id = NULL WHERE title LIKE %s AND duplicate_of_id IS NOT NULL",
            [f"{TITLE}%"],
        )
    deleted, _ = Incident.objects.filter(title__startswith=TITLE).delete()
    return deleted


# -- timing ---------------------------------------------------------------------------------------------------


def timed(run: Callable[[int], object], *, repeat: int, setup: Callable[[int], object] | None = None) -> float:
    """Median wall time in ms of ``run(i)`` over ``repeat`` runs after one untimed warm-up; ``setup(i)`` before
    each run is not timed."""
    times = []
    for index in range(repeat + 1):
        if setup:
            setup(index)
        started = time.perf_counter()
        run(index)
        if index:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@dataclass
class WriteCase:
    name: str
    baseline_says: str
    service: Callable[[int], object]
    baseline: Callable[[int], object]
    setup: Callable[[int], object] | None = None
    path: str = "service"  # service, admin or api
    absolute_limit_ms: float | None = None
    note: str = ""


def write_result(case: WriteCase, *, repeat: int) -> Result:
    service_ms = timed(case.service, repeat=repeat, setup=case.setup)
    baseline_ms = timed(case.baseline, repeat=repeat, setup=case.setup)
    ratio = service_ms / baseline_ms if baseline_ms else None
    passed = ratio is not None and ratio <= WRITE_LIMIT
    target = f"<= {WRITE_LIMIT:g}x same rows by hand"
    if case.absolute_limit_ms is not None:
        passed = passed and service_ms <= case.absolute_limit_ms
        target += f" and <= {case.absolute_limit_ms:g} ms"
    return Result(
        case.name,
        service=service_ms,
        raw=baseline_ms,
        basis="same rows by hand",
        ratio=ratio,
        target=target,
        passed=passed,
        note=case.note,
        baseline=case.baseline_says,
        details={"path": case.path},
    )


def write_cases(raw, scene: Scene, flips: dict[int, Flip]) -> Iterator[WriteCase]:
    """Every write case, service first, then the admin and the API for the same action. The figures edited are
    in ``flips``, to be restored."""
    counter = iter(range(10**9))

    def title() -> str:
        return f"{TITLE} new incident {next(counter)}"

    base_new = baseline_new_incident.__doc__.strip()
    yield WriteCase(
        "write: new incident with 3 figures (service)",
        base_new,
        lambda i: service_new_incident(scene, title()),
        lambda i: run_statements(raw, baseline_new_incident(scene, title())),
        note=FIGURE_PATH,
    )
    yield WriteCase(
        "write: new incident with 3 figures (admin)",
        base_new.rstrip(".") + ", INSERT the admin's log entry.",
        lambda i: admin_new_incident(scene, title()),
        lambda i: run_statements(
            raw,
            [
                *baseline_new_incident(scene, title()),
                _admin_log(scene, "currval(pg_get_serial_sequence('casualties_incident', 'id'))", 1),
            ],
        ),
        path="admin",
        absolute_limit_ms=ADMIN_SAVE_LIMIT_MS,
    )
    if scene.figures:
        tally_id, incident_id = scene.figures[0]
        flip = flips.setdefault(tally_id, Flip(raw, tally_id))
        yield WriteCase(
            "write: edit one figure (service)",
            baseline_edit_figure.__doc__.strip(),
            lambda i: service_edit_figure(scene, tally_id, *flip.next()),
            lambda i: run_statements(raw, baseline_edit_figure(scene, incident_id, tally_id, *flip.next())),
            note=FIGURE_PATH,
        )
        yield WriteCase(
            "write: edit one figure (admin)",
            baseline_admin_edit_figure.__doc__.strip(),
            lambda i: admin_edit_figure(scene, incident_id, tally_id, *flip.next()),
            lambda i: run_statements(raw, baseline_admin_edit_figure(scene, incident_id, tally_id, *flip.next())),
            path="admin",
            absolute_limit_ms=ADMIN_SAVE_LIMIT_MS,
        )
        yield WriteCase(
            "write: edit one figure (API)",
            baseline_edit_figure.__doc__.strip(),
            lambda i: api_edit_figure(scene, tally_id, *flip.next()),
            lambda i: run_statements(raw, baseline_edit_figure(scene, incident_id, tally_id, *flip.next())),
            path="api",
        )
    if scene.to_verify:
        target = scene.to_verify

        def reset(i: int) -> None:
            run_statements(raw, reset_to_submitted(target))

        for label, run, path in (
            ("service", lambda i: service_verify(scene, target), "service"),
            ("admin", lambda i: admin_verify(scene, target), "admin"),
            ("API", lambda i: api_verify(scene, target), "api"),
        ):
            yield WriteCase(
                f"write: verify one incident ({label})",
                baseline_verify.__doc__.strip(),
                run,
                lambda i: run_statements(raw, baseline_verify(scene, target)),
                setup=reset,
                path=path,
                absolute_limit_ms=ADMIN_SAVE_LIMIT_MS if path == "admin" else None,
            )
    if len(scene.report_ids) >= 3:
        pairs: dict[str, tuple[int, int]] = {}

        def new_pair(i: int) -> None:
            pairs["current"] = make_pair(raw, scene, f"{TITLE} merge {next(counter)}")

        for label, run, path in (
            ("service", lambda i: service_merge(scene, *pairs["current"]), "service"),
            ("admin", lambda i: admin_merge(scene, *pairs["current"]), "admin"),
        ):
            yield WriteCase(
                f"write: merge two incidents ({label})",
                baseline_merge.__doc__.strip(),
                run,
                lambda i: run_statements(raw, baseline_merge(scene, *pairs["current"])),
                setup=new_pair,
                path=path,
                absolute_limit_ms=ADMIN_SAVE_LIMIT_MS if path == "admin" else None,
            )


def writes(bench) -> Iterator[Result]:
    from .cases import _measured

    raw = bench.raw
    delete_benchmark_rows(raw)
    original = None
    flips: dict[int, Flip] = {}
    try:
        scene = pick_scene(raw)
        if scene.to_verify:
            with raw.cursor() as cursor:
                cursor.execute(
                    "SELECT status, reviewed_by_id, reviewed_at, updated_by_id FROM casualties_incident WHERE id = %s",
                    [scene.to_verify],
                )
                original = cursor.fetchone()
        where = f"{scene.district_path} in {scene.month:%Y-%m} ({scene.incidents_in_cell:,} counted incidents)"
        for case in write_cases(raw, scene, flips):
            result = _measured(case.name, lambda case=case: write_result(case, repeat=bench.repeat))
            result.details["where"] = where
            yield result
        yield _measured(
            "write: two writers, same district and month", lambda: two_writers(raw, scene, flips, repeat=bench.repeat)
        )
    finally:
        for flip in flips.values():
            flip.restore()
        if original:
            run_statements(
                raw,
                [
                    (
                        "UPDATE casualties_incident SET status = %s, reviewed_by_id = %s, reviewed_at = %s,"
                        " updated_by_id = %s WHERE id = %s",
                        [*original, scene.to_verify],
                    )
                ],
            )
        delete_benchmark_rows(raw)


# -- two writers of the same district and month ------------------------------------------------------------


def two_writers(raw, scene: Scene, flips: dict[int, Flip], *, repeat: int) -> Result:
    """Two figures of two incidents in the same district and month, edited through the service path at once.

    The first writes its figure (its statements take the summary cells' row locks), then the second starts
    and waits for those locks until the first commits. The second's wait is its time beside the first minus
    its time alone; it should be bounded by the first's own work (its time alone)."""
    name = "write: two writers, same district and month"
    if len(scene.figures) < 2:
        return Result(name, note="fewer than two figures in the cell")
    (first_tally, _), (second_tally, _) = scene.figures
    first = flips.setdefault(first_tally, Flip(raw, first_tally))
    second = flips.setdefault(second_tally, Flip(raw, second_tally))
    first_alone = timed(lambda i: service_edit_figure(scene, first_tally, *first.next()), repeat=repeat)
    second_alone = timed(lambda i: service_edit_figure(scene, second_tally, *second.next()), repeat=repeat)
    waits, firsts, seconds = [], [], []
    for i in range(repeat + 1):
        first_ms, second_ms = _contended(scene, first_tally, second_tally, first.next(), second.next())
        if i:
            firsts.append(first_ms)
            seconds.append(second_ms)
            waits.append(second_ms - second_alone)
    wait = max(statistics.median(waits), 0.0)
    ratio = wait / first_alone if first_alone else None
    passed = ratio is not None and ratio <= 1.0 and wait <= ADMIN_SAVE_LIMIT_MS
    return Result(
        name,
        service=wait,
        raw=first_alone,
        basis="first writer alone",
        ratio=ratio,
        target=f"wait <= 1x first writer alone and <= {ADMIN_SAVE_LIMIT_MS:g} ms",
        passed=passed,
        note=f"second writer alone {second_alone:.1f} ms, beside the first {statistics.median(seconds):.1f} ms",
        baseline="The first writer's own time: its figure edit through the service path, alone.",
        details={
            "first_alone_ms": first_alone,
            "second_alone_ms": second_alone,
            "first_contended_ms": statistics.median(firsts),
            "second_contended_ms": statistics.median(seconds),
            "path": FIGURE_PATH,
        },
    )


def _contended(scene, first_tally, second_tally, first_values, second_values) -> tuple[float, float]:
    """One round: the first writer's statements run, then the second starts while the first commits."""
    wrote = threading.Event()
    barrier = threading.Barrier(2, timeout=600)
    times: dict[str, float] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            barrier.wait()
            started = time.perf_counter()
            with services.write_scope():
                tally = CasualtyTally.objects.get(pk=first_tally)
                services.tally_update(
                    user=scene.user,
                    tally=tally,
                    read_at=tally.updated_at,
                    changes={"best": first_values[0], "high": first_values[1]},
                )
                wrote.set()
            times["first"] = (time.perf_counter() - started) * 1000
        except BaseException as error:  # reported by the caller
            errors.append(error)
            wrote.set()
        finally:
            connection.close()

    def second() -> None:
        try:
            barrier.wait()
            wrote.wait(600)
            started = time.perf_counter()
            service_edit_figure(scene, second_tally, *second_values)
            times["second"] = (time.perf_counter() - started) * 1000
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return times["first"], times["second"]
