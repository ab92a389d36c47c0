from .actors import Actor, ActorName
from .incidents import Incident, IncidentActor, IncidentType
from .regions import Region
from .tallies import CasualtyTally, Estimate, ReportingPeriod

__all__ = [
    "Actor",
    "ActorName",
    "CasualtyTally",
    "Estimate",
    "Incident",
    "IncidentActor",
    "IncidentType",
    "Region",
    "ReportingPeriod",
]
