#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # Commands (migrate, seed, generate_synthetic, the summary rebuild) run for minutes: no web time limits for
    # them. The development server serves requests and keeps them.
    if sys.argv[1:2] != ["runserver"]:
        os.environ.setdefault("DATABASE_LIMITS", "command")
    from config.database_roles import use_owner_for_owner_commands
    from config.embedded_db import use_embedded_unless_configured

    use_embedded_unless_configured()
    use_owner_for_owner_commands(sys.argv)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
