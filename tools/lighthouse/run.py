"""``make lighthouse``: Lighthouse's four category scores for the demo shop's home and a product page.

Starts the shop as ``make run`` would (``commerce db upgrade``, ``commerce seed --demo``,
``commerce serve``) on a fresh SQLite database and a free port, runs the pinned Lighthouse
(``tools/lighthouse``) with Debian's Chromium against each page (desktop settings, no network
throttling: the figures measure the pages, not an emulated phone network), prints performance,
accessibility, best practices and SEO out of 100, and stops the shop. Exits 1 if a score is below
``--min`` (default 0: report only).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "node_modules" / "lighthouse" / "cli" / "index.js"
COMMERCE = str(Path(sys.executable).with_name("commerce"))
CHROMIUM = "/usr/bin/chromium"
PAGES = {"home": "/", "product": "/products/linen-shirt"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the shop did not answer at {url}")


def _scores(url: str, workdir: Path) -> dict[str, int]:
    report = workdir / "report.json"
    subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--chrome-flags={CHROME_FLAGS}",
            "--preset=desktop",
            "--throttling-method=provided",
            f"--only-categories={','.join(CATEGORIES)}",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
    )
    categories = json.loads(report.read_text())["categories"]
    return {name: round(categories[name]["score"] * 100) for name in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min", type=int, default=0, help="fail below this score")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: make lighthouse installs it")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'shop.db'}",
            "MEDIA_DIR": str(workdir / "media"),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "LOG_LEVEL": "WARNING",
        }
        for command in (("db", "upgrade"), ("seed", "--demo")):
            subprocess.run([COMMERCE, *command], env=env, check=True, capture_output=True)
        server = subprocess.Popen(
            [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base + "/healthz")
            failed = False
            print(f"{'page':<10}" + "".join(f"{c:>16}" for c in CATEGORIES))
            for name, path in PAGES.items():
                scores = _scores(base + path, workdir)
                print(f"{name:<10}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES))
                failed = failed or any(score < args.min for score in scores.values())
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
