import io

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from casualties.roles import must_use_two_factor
from casualties.services.two_factor import two_factor_enrol, two_factor_remove


class Command(BaseCommand):
    help = (
        "Set up two-factor authentication for a user: print a QR code and otpauth:// URL for an authenticator "
        "app, and ten single-use recovery codes. Replaces any earlier authenticator and codes of that user."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--remove", action="store_true", help="Remove the user's authenticator and codes.")
        parser.add_argument("--no-qr", action="store_true", help="Print the URL and codes only, without a QR code.")

    def handle(self, *args, username: str, remove: bool, no_qr: bool, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        if remove:
            removed = two_factor_remove(user=user)
            note = " Their role needs it: they cannot log in until enrolled again." if must_use_two_factor(user) else ""
            self.stdout.write(f"Removed {removed} two-factor device(s) of {username}.{note}")
            return
        enrolment = two_factor_enrol(user=user)
        if not no_qr:
            picture = io.StringIO()
            segno.make(enrolment.config_url).terminal(out=picture, compact=True)
            self.stdout.write(picture.getvalue(), ending="")
        self.stdout.write(
            f"Scan the QR code, or add this URL to an authenticator app:\n  {enrolment.config_url}\n"
            f"Recovery codes for {username} (each logs in once instead of an app code; keep them safe):\n  "
            + "  ".join(enrolment.recovery_codes)
        )
