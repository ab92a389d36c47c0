import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a demo administrator, only when there is no user at all, and print its credentials."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Users exist already; no demo administrator created.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="admin@example.org", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo administrator created. Log in at http://127.0.0.1:8000/admin/ with\n"
                f"  username: admin\n  password: {password}\n"
                "(printed once; change it with `manage.py changepassword admin`)."
            )
        )
