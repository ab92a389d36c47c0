import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from casualties.roles import DATA_ENTRY, REVIEWER, must_use_two_factor
from casualties.services.two_factor import two_factor_enrol

# Who the demo has, so that the four-eyes workflow can be tried at once: one enters, another verifies.
DEMO_USERS = [
    ("admin", "administrator (every permission; still never verifies what they entered)", None),
    ("entry", "data-entry user (enters incidents and figures, submits them for review)", DATA_ENTRY),
    ("reviewer", "reviewer (verifies, rejects and merges other people's incidents)", REVIEWER),
]


class Command(BaseCommand):
    help = (
        "Create the demo users (an administrator, a data-entry user and a reviewer), only when there is no user at "
        "all, and print their passwords once, with a recovery code and an authenticator URL for those whose role "
        "logs in with a one-time code."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/admin/", help="Where the admin is served, for the message."
        )

    def handle(self, *args, url: str, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Users exist already; no demo users created.")
            return
        lines = []
        for username, description, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            if role is None:
                user = User.objects.create_superuser(
                    username=username, email=f"{username}@example.org", password=password
                )
            else:
                user = User.objects.create_user(username=username, password=password, is_staff=True)
                user.groups.add(Group.objects.get(name=role))
            lines.append(f"  {username:<9} password: {password}   the {description}")
            if must_use_two_factor(user):
                enrolment = two_factor_enrol(user=user)
                lines.append(f"{'':12}one-time code: any of {' '.join(enrolment.recovery_codes)} (each works once)")
                lines.append(f"{'':12}or from an authenticator app given {enrolment.config_url}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo users created. Log in at {url} as\n" + "\n".join(lines) + "\n"
                "(printed once; change a password with `manage.py changepassword <username>`, set up an authenticator "
                "with `manage.py enrol_two_factor <username>`)."
            )
        )
