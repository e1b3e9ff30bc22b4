"""The framework ceiling: a bare Flask app with one small JSON endpoint.

``benchmarks/run.py`` serves it with ``python benchmarks/bare_app.py --port P --workers W
--threads T``, which runs gunicorn with exactly the options ``commerce serve`` uses
(``webapp.server.server_options``), so the difference between this and ``GET /api/products`` is
what the shop's own code costs per request: routing, request logging, the CSRF hook, a database
read, the JSON of a page of products and its ETag.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from webapp.server import server_options

app = Flask("bare_app")


@app.get("/")
def index() -> dict[str, object]:
    return {"status": "ok", "items": [1, 2, 3], "page": 1}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


class BareServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Flask:
        return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the bare app like `commerce serve`.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    options = server_options(
        host=args.host, port=args.port, workers=args.workers, threads=args.threads
    )
    print(f"bare_app gunicorn options: {json.dumps(options)}", flush=True)
    BareServer(options).run()


if __name__ == "__main__":
    main()
