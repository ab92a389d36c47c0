"""Enrolling staff in two-factor authentication: an authenticator key and a set of recovery codes.

Who must use it is casualties.roles.must_use_two_factor; the admin's login form checks the codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10


@dataclass(frozen=True)
class Enrolment:
    """What the user needs, shown once: the otpauth:// URL for an authenticator app and the recovery codes."""

    config_url: str
    recovery_codes: list[str]


@transaction.atomic
def two_factor_enrol(*, user, recovery_codes: int = RECOVERY_CODES) -> Enrolment:
    """Give ``user`` a new authenticator key and new recovery codes, replacing any they had (a lost phone or a
    used-up list is handled the same way: enrol again). Each recovery code logs in once."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    authenticator = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(recovery_codes)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return Enrolment(config_url=authenticator.config_url, recovery_codes=codes)


@transaction.atomic
def two_factor_remove(*, user) -> int:
    """Remove ``user``'s authenticator and recovery codes; returns how many devices went. A user whose role needs
    two-factor authentication cannot log in again until enrolled anew."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        devices = model.objects.filter(user=user)
        removed += devices.count()
        devices.delete()
    return removed
