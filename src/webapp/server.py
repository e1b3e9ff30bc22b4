"""Serving the app with gunicorn, started from Python (``commerce serve``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

# Imported in the gunicorn master, before the fork: workers start with every module loaded
# (shared copy-on-write) and boot in milliseconds. No app, engine or connection exists yet.
from webapp.app import create_app
from webapp.bootstrap import (
    build_container,
    configure_process,
    preload_database_driver,
    start_background_work,
)
from webapp.config import Settings
from webapp.scheduler import start_job_schedulers

__all__ = ["CommerceServer", "server_options"]


def server_options(*, host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # Threads share a worker's engine pool; one thread per worker is the plain sync worker.
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        # The app logs one structured line per request itself.
        "accesslog": None,
        # No stray unix socket in $HOME: we do not use gunicorn's runtime control interface.
        "control_socket_disable": True,
    }


class CommerceServer(BaseApplication):  # type: ignore[misc]
    """Each worker builds its own app (and so its own engine) after the fork: database
    connections are never shared between processes."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        preload_database_driver(settings)
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            if name in self.cfg.settings:  # tolerate settings older gunicorns lack
                self.cfg.set(name, value)

    def load(self) -> Flask:
        # In the worker, after gunicorn set up its own loggers: ours take them over.
        configure_process(self._settings)
        container = build_container(self._settings)
        start_background_work(container)
        start_job_schedulers(container, self._settings)
        return create_app(self._settings, container=container)
