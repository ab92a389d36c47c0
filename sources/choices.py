from django.db import models


class SourceKind(models.TextChoices):
    MONITORING_GROUP = "monitoring_group", "Monitoring group"
    NGO = "ngo", "NGO"
    NEWS_MEDIA = "news_media", "News media"
    GOVERNMENT = "government", "Government"
    INTERNATIONAL = "international", "UN / international body"
    ARMED_GROUP = "armed_group", "Armed group"
    MEDICAL = "medical", "Medical"
    SOCIAL_MEDIA = "social_media", "Social media"
    OTHER = "other", "Other"


class SourceReliability(models.TextChoices):
    """Admiralty (NATO) scale for the reliability of a source."""

    A = "A", "A: completely reliable"
    B = "B", "B: usually reliable"
    C = "C", "C: fairly reliable"
    D = "D", "D: not usually reliable"
    E = "E", "E: unreliable"
    F = "F", "F: reliability cannot be judged"


class InformationCredibility(models.IntegerChoices):
    """Admiralty (NATO) scale for the credibility of one piece of information."""

    CONFIRMED = 1, "1: confirmed by other sources"
    PROBABLY_TRUE = 2, "2: probably true"
    POSSIBLY_TRUE = 3, "3: possibly true"
    DOUBTFUL = 4, "4: doubtful"
    IMPROBABLE = 5, "5: improbable"
    CANNOT_JUDGE = 6, "6: truth cannot be judged"
