"""The columns of every CSV export: each one's header, the SQL that computes it, its HXL hashtag, type and meaning.

docs/codebook.md documents every column listed here, in this order; a test keeps the two equal. The stream
that writes them is casualties.exports.
"""

from __future__ import annotations

from dataclasses import dataclass

from .choices import (
    ActorRole,
    CasualtyGroup,
    CasualtyStatus,
    DatePrecision,
    LocationPrecision,
    Outcome,
    Qualifier,
    ReviewStatus,
)
from .models import CasualtyTally, Incident

# A cell starting with one of these is read as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_STARTS = "'=', '+', '-', '@', chr(9), chr(13)"


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, the SQL that computes it, its HXL hashtag and its meaning."""

    name: str
    sql: str
    hxl: str
    type: str
    description: str
    # Free text typed by people: neutralised against formula injection; an empty text is written as unknown.
    is_text: bool = False

    @property
    def select_sql(self) -> str:
        if not self.is_text:
            return f'{self.sql} AS "{self.name}"'
        value = f"NULLIF({self.sql}, '')"
        return (
            f"CASE WHEN left({value}, 1) IN ({FORMULA_STARTS}) THEN '''' || {value} ELSE {value} END AS \"{self.name}\""
        )


def _timestamp(sql: str) -> str:
    """A timestamp as ISO 8601 in UTC (2017-07-20T10:00:00Z)."""
    return f"""to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _boolean(sql: str) -> str:
    return f"CASE WHEN {sql} THEN 'true' ELSE 'false' END"


ADMIN_LEVELS = (("country", "country"), ("admin1", "adm1"), ("admin2", "adm2"), ("admin3", "adm3"), ("admin4", "adm4"))
LEVEL_WORDS = {
    "country": "country (level 0)",
    "admin1": "governorate / province (level 1)",
    "admin2": "district (level 2)",
    "admin3": "sub-district (level 3)",
    "admin4": "community / locality (level 4)",
}


def _admin_columns(where: str) -> list[Column]:
    """Codes and names of the region ``r`` and its ancestors, one pair per level, joined as a0..a4."""
    columns = []
    for level, (prefix, hxl) in enumerate(ADMIN_LEVELS):
        columns += [
            Column(
                f"{prefix}_code",
                f"adm.a{level}_code",
                f"#{hxl}+code",
                "text",
                f"Gazetteer code (p-code, or ISO 3166) of the {LEVEL_WORDS[prefix]} {where}; "
                "empty when the location is known only more coarsely.",
            ),
            Column(f"{prefix}_name", f"adm.a{level}_name", f"#{hxl}+name", "text", "Its English name.", is_text=True),
        ]
    return columns


def _admin_lateral(region_id: str) -> str:
    """The codes and names of the region whose id is ``region_id`` and of its ancestors at levels 0-4 (the
    region itself at its own level), as ``adm.a0_code`` .. ``adm.a4_name``.

    One lookup per row keyed by the region's id (PostgreSQL caches it per region, "Memoize"), so the rows keep
    the order they are read in: joined to the region table instead, the rows would be hashed and then sorted."""
    picks = ", ".join(
        f"a{level}.code AS a{level}_code, a{level}.name AS a{level}_name" for level in range(len(ADMIN_LEVELS))
    )
    joins = "\n".join(
        f"    LEFT JOIN casualties_region a{level} ON ar.level >= {level} "
        f"AND a{level}.code = split_part(ar.path, '/', {level + 1})"
        for level in range(len(ADMIN_LEVELS))
    )
    return f"""LEFT JOIN LATERAL (
  SELECT {picks}
    FROM casualties_region ar
{joins}
   WHERE ar.id = {region_id}
  OFFSET 0
) adm ON true"""


OUTCOME_VALUES = ", ".join(Outcome.values)
STATUS_VALUES = ", ".join(CasualtyStatus.values)

SOURCE_COLUMNS = [
    Column(
        "source_id", "s.id", "#meta+source+id", "integer", "Id of the source (organisation) that published the figure."
    ),
    Column("source_name", "s.name", "#meta+source+name", "text", "Name of the source.", is_text=True),
    Column(
        "source_acronym", "s.acronym", "#meta+source+acronym", "text", "Acronym of the source (SOHR).", is_text=True
    ),
    Column("report_id", "rp.id", "#meta+report+id", "integer", "Id of the report (publication) that gives the figure."),
    Column("report_title", "rp.title", "#meta+report+title", "text", "Title of the report.", is_text=True),
    Column("report_url", "rp.url", "#meta+url", "URL", "Address of the report.", is_text=True),
    Column("report_archive_url", "rp.archive_url", "#meta+url+archive", "URL", "A permanent copy.", is_text=True),
    Column("report_published_on", "rp.published_on", "#date+reported", "date", "Date the report was published."),
]


def _figure_columns() -> list[Column]:
    return [
        Column("outcome", "t.outcome", "#indicator+outcome", "text", f"What happened to the people: {OUTCOME_VALUES}."),
        Column("status", "t.status", "#indicator+status", "text", f"Who they were: {STATUS_VALUES}."),
        Column(
            "group",
            "t.casualty_group",
            "#indicator+group",
            "text",
            f"{', '.join(CasualtyGroup.values)}: all people counted, or an of-which subgroup of them.",
        ),
        Column("low", "t.low", "#affected+low", "integer", "Lowest figure the report allows."),
        Column("best", "t.best", "#affected+best", "integer", "The report's figure."),
        Column("high", "t.high", "#affected+high", "integer", "Highest figure the report allows."),
        Column(
            "qualifier",
            "t.qualifier",
            "#meta+qualifier",
            "text",
            f"How the report qualified its number: {', '.join(Qualifier.values)}.",
        ),
        Column(
            "reported_phrase", "t.reported_phrase", "#description+reported", "text", "The words of the report.", True
        ),
        Column("notes", "t.notes", "#description+notes", "text", "Staff notes on the figure.", is_text=True),
    ]


def _period_columns() -> list[Column]:
    return [
        Column("period_start", "p.date_start", "#date+start", "date", "First day of the reporting period."),
        Column("period_end", "p.date_end", "#date+end", "date", "Last day of the reporting period (inclusive)."),
        Column("period_label", "p.label", "#date+label", "text", "The period as the source put it.", is_text=True),
    ]


def _estimate_columns() -> list[Column]:
    columns = []
    for outcome in (Outcome.KILLED, Outcome.INJURED):
        for status in CasualtyStatus.values:
            for bound in ("low", "best", "high"):
                columns.append(
                    Column(
                        f"{outcome}_{status}_{bound}",
                        f"est.{outcome}_{status}_{bound}",
                        f"#affected+{outcome}+{status}+{bound}",
                        "integer",
                        f"The incident's estimate, {bound} figure, of people {outcome} whose status is {status} "
                        "(group all); empty when no source gave such a figure.",
                    )
                )
    return columns


@dataclass(frozen=True)
class Export:
    """One CSV export: its columns, the alias its rows go by (a row of ``model`` each) and the joins that give
    each row its columns."""

    name: str
    model: type
    columns: tuple[Column, ...]
    alias: str
    joins_sql: str

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def hxl(self) -> list[str]:
        return [column.hxl for column in self.columns]

    def select_sql(self, rows_sql: str) -> str:
        """The export's SELECT of the rows ``rows_sql`` gives (every column of ``model``, each row once), in id
        order. PostgreSQL pulls the derived table up into the scan of the model's table: each row is read once,
        with its filters, where an ``id IN (<the filtered ids>)`` would read the table twice."""
        columns = ",\n  ".join(column.select_sql for column in self.columns)
        a = self.alias
        return f"SELECT {columns}\nFROM ({rows_sql}) AS {a}\n{self.joins_sql}\nORDER BY {a}.id"


def _estimates_lateral() -> str:
    picks = ",\n    ".join(
        f"max(e.{bound}) FILTER (WHERE e.outcome = '{outcome}' AND e.status = '{status}') AS {outcome}_{status}_{bound}"
        for outcome in (Outcome.KILLED, Outcome.INJURED)
        for status in CasualtyStatus.values
        for bound in ("low", "best", "high")
    )
    return f"""LEFT JOIN LATERAL (
  SELECT {picks}
    FROM casualties_estimate e WHERE e.incident_id = i.id AND e.casualty_group = 'all'
) est ON true"""


def _actors_lateral() -> str:
    picks = ", ".join(
        f"string_agg(a.name, '; ' ORDER BY a.name) FILTER (WHERE ia.role = '{role}') AS {role}"
        for role in ActorRole.values
    )
    return f"""LEFT JOIN LATERAL (
  SELECT {picks}
    FROM casualties_incidentactor ia JOIN casualties_actor a ON a.id = ia.actor_id WHERE ia.incident_id = i.id
) act ON true"""


def _incident_columns() -> list[Column]:
    actor_columns = [
        Column(
            role,
            f"act.{role}",
            f"#org+actor+{role}",
            "text",
            f"Actors in the role {role}, by their current names, sorted, separated by '; '.",
            is_text=True,
        )
        for role, label in ActorRole.choices
    ]
    return [
        Column("incident_id", "i.public_id", "#event+id", "UUID", "The incident's public id; never changes."),
        Column("title", "i.title", "#event+name", "text", "Short title written by staff.", is_text=True),
        Column("date_start", "i.date_start", "#date+start", "date", "First day of the incident."),
        Column("date_end", "i.date_end", "#date+end", "date", "Last day (inclusive); equal to date_start for one day."),
        Column(
            "date_precision",
            "i.date_precision",
            "#date+precision",
            "text",
            f"How exactly the dates are known (UCDP date_prec): {', '.join(DatePrecision.values)}.",
        ),
        *_admin_columns("where the incident happened"),
        Column("place_name", "i.place_name", "#loc+name", "text", "The place as reported.", is_text=True),
        Column("latitude", "i.latitude", "#geo+lat", "decimal", "WGS 84 latitude; empty when no point is known."),
        Column("longitude", "i.longitude", "#geo+lon", "decimal", "WGS 84 longitude; empty when no point is known."),
        Column(
            "location_precision",
            "i.location_precision",
            "#geo+precision",
            "text",
            f"How exactly the place is known (UCDP where_prec): {', '.join(LocationPrecision.values)}.",
        ),
        Column("incident_type", "it.code", "#event+type+code", "text", "Code of the incident type (armed-clash)."),
        Column("incident_type_name", "it.name", "#event+type+name", "text", "Name of the incident type.", True),
        *actor_columns,
        Column("status", "i.status", "#status+review", "text", f"Review status: {', '.join(ReviewStatus.values)}."),
        Column("source_count", "src.source_count", "#meta+source+num", "integer", "Distinct sources with a figure."),
        Column(
            "report_urls",
            "src.report_urls",
            "#meta+url",
            "URL list",
            "Addresses of the reports with a figure (their archive copy when a report has no address), "
            "sorted, separated by a space.",
            is_text=True,
        ),
        *_estimate_columns(),
        Column("updated_at", _timestamp("i.updated_at"), "#date+updated", "date-time", "Last change (UTC)."),
    ]


INCIDENTS = Export(
    name="incidents",
    model=Incident,
    columns=tuple(_incident_columns()),
    alias="i",
    joins_sql=f"""JOIN casualties_incidenttype it ON it.id = i.incident_type_id
{_admin_lateral("i.region_id")}
{_actors_lateral()}
LEFT JOIN LATERAL (
  SELECT count(DISTINCT t.source_id) AS source_count,
         string_agg(DISTINCT COALESCE(NULLIF(rp.url, ''), NULLIF(rp.archive_url, '')), ' ') AS report_urls
    FROM casualties_casualtytally t JOIN sources_report rp ON rp.id = t.report_id WHERE t.incident_id = i.id
) src ON true
{_estimates_lateral()}""",
)

TALLIES = Export(
    name="tallies",
    model=CasualtyTally,
    columns=(
        Column("tally_id", "t.id", "#meta+id", "integer", "Id of the figure."),
        *SOURCE_COLUMNS,
        Column(
            "target",
            "CASE WHEN t.incident_id IS NULL THEN 'period_total' ELSE 'incident' END",
            "#meta+target",
            "text",
            "incident: the figure is about one incident; period_total: about a region over a reporting period.",
        ),
        Column("incident_id", "i.public_id", "#event+id", "UUID", "The incident's public id (incident figures)."),
        Column(
            "incident_status",
            "i.status",
            "#status+review",
            "text",
            f"The incident's review status (incident figures): {', '.join(ReviewStatus.values)}.",
        ),
        Column("region_code", "r.code", "#loc+code", "text", "Gazetteer code of the region (period totals)."),
        Column("region_name", "r.name", "#loc+name", "text", "Its English name.", is_text=True),
        Column("region_level", "r.level", "#loc+level", "integer", "Its level: 0 country to 4 community."),
        *_period_columns(),
        *_figure_columns(),
        Column(
            "is_preferred",
            _boolean("t.is_preferred"),
            "#meta+preferred",
            "boolean",
            "true or false: a reviewer chose this figure as the incident's best estimate.",
        ),
        Column("created_at", _timestamp("t.created_at"), "#date+created", "date-time", "When it was entered (UTC)."),
        Column("updated_at", _timestamp("t.updated_at"), "#date+updated", "date-time", "Last change (UTC)."),
    ),
    alias="t",
    joins_sql="""JOIN sources_report rp ON rp.id = t.report_id
JOIN sources_source s ON s.id = t.source_id
LEFT JOIN casualties_incident i ON i.id = t.incident_id
LEFT JOIN casualties_region r ON r.id = t.region_id
LEFT JOIN casualties_reportingperiod p ON p.id = t.reporting_period_id""",
)

PERIOD_TOTALS = Export(
    name="period-totals",
    model=CasualtyTally,
    columns=(
        Column("tally_id", "t.id", "#meta+id", "integer", "Id of the figure."),
        *SOURCE_COLUMNS,
        *_period_columns(),
        Column("region_code", "r.code", "#loc+code", "text", "Gazetteer code of the region the total covers."),
        Column("region_level", "r.level", "#loc+level", "integer", "Its level: 0 country to 4 community."),
        *_admin_columns("covered by the total (the region itself at its own level)"),
        *_figure_columns(),
        Column("updated_at", _timestamp("t.updated_at"), "#date+updated", "date-time", "Last change (UTC)."),
    ),
    alias="t",
    joins_sql=f"""JOIN sources_report rp ON rp.id = t.report_id
JOIN sources_source s ON s.id = t.source_id
JOIN casualties_region r ON r.id = t.region_id
JOIN casualties_reportingperiod p ON p.id = t.reporting_period_id
{_admin_lateral("t.region_id")}""",
)

EXPORTS = {export.name: export for export in (INCIDENTS, TALLIES, PERIOD_TOTALS)}
