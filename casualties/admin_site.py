"""The admin site staff log in to: the password, then a one-time code where the role needs one (casualties.roles)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp import devices_for_user
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import lacks_required_second_factor, must_use_two_factor

NOT_ENROLLED = (
    "Your role logs in with a one-time code as well as the password, and no authenticator is set up for this "
    "account yet. Ask an administrator to enrol you (manage.py enrol_two_factor)."
)


def device_for_token(devices: list, token: str):
    """Six digits are a code from the authenticator app; anything else is a recovery code. Choosing by the shape
    of the code (not by trying every device) leaves the other device's failure count alone."""
    kind = TOTPDevice if token.isdigit() else StaticDevice
    return next((device for device in devices if isinstance(device, kind)), devices[0])


class StaffLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Username, password and, for an account with an authenticator, the code it shows (or a recovery code)."""

    otp_token = forms.CharField(
        required=False,
        label="One-time code",
        help_text="From your authenticator app, or one of your recovery codes. Leave empty if you have none.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "Enter the one-time code from your authenticator app, or one of your recovery codes.",
        "invalid_token": "That one-time code is wrong or was already used. Enter the code your app shows now.",
    }

    def clean(self):
        self.cleaned_data = super().clean()
        user = self.get_user()
        devices = list(devices_for_user(user)) if user is not None else []
        if not devices:
            if must_use_two_factor(user):
                raise forms.ValidationError(NOT_ENROLLED, code="not_enrolled")
            return self.cleaned_data
        token = self.cleaned_data.get("otp_token", "").strip().replace(" ", "")
        self.cleaned_data["otp_token"] = token
        self.cleaned_data["otp_device"] = device_for_token(devices, token).persistent_id
        self.clean_otp(user)
        return self.cleaned_data


class StaffAdminSite(admin.AdminSite):
    """Django's admin, where a session without the second factor its role needs is sent back to log in."""

    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and not lacks_required_second_factor(request.user)
