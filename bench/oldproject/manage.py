#!/usr/bin/env python
"""manage.py of the df-websockets 1.2.6 bench project (runs in its own virtualenv)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oldsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
