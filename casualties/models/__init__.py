from .actors import Actor, ActorName
from .exports import ExportLog
from .incidents import Incident, IncidentActor, IncidentRemoval, IncidentType
from .regions import Region
from .summary import SummaryCell
from .tallies import CasualtyTally, Estimate, ReportingPeriod

__all__ = [
    "Actor",
    "ActorName",
    "CasualtyTally",
    "Estimate",
    "ExportLog",
    "Incident",
    "IncidentActor",
    "IncidentRemoval",
    "IncidentType",
    "Region",
    "ReportingPeriod",
    "SummaryCell",
]
