"""A minimal project for df-websockets 1.2.6, configured as its README says.

It runs in ``bench/.work/venv-dfws-old`` with only this folder on the path:
nothing of dfws is importable here.
"""
