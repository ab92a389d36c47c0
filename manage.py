#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from config.database_roles import use_owner_for_owner_commands
    from config.embedded_db import use_embedded_unless_configured

    use_embedded_unless_configured()
    use_owner_for_owner_commands(sys.argv)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
