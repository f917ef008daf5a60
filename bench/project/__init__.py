"""The dfws bench project: settings, Celery app, signals, a page view, a bare consumer.

Installed as a Django app too, so that its ``signals`` module is autodiscovered.
"""
