#!/usr/bin/env python
"""Django's command-line utility for the sample project (run it from anywhere)."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Python put this file's folder first on the path, where `celery.py` would shadow the
    # celery package: put the folder holding the `sample_project` package there instead
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
