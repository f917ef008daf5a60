"""The Prometheus scrape endpoint: ``path("metrics/", dfws_web.metrics_view.metrics)``.

It serves every metric of the process's ``prometheus_client`` registry, or,
with ``PROMETHEUS_MULTIPROC_DIR`` set, those of every process that wrote
there (``dfws_celery.metrics``).  It answers 404 while ``WEBSOCKET_METRICS``
is off.  Keep it off the public internet (an internal port, a proxy rule or
a view decorator of your own): the counts tell how busy the site is.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from dfws_celery import metrics as dfws_metrics


def metrics(request: HttpRequest) -> HttpResponse:
    if dfws_metrics.get() is None:
        raise Http404("WEBSOCKET_METRICS is off")
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = REGISTRY
    if dfws_metrics.multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
