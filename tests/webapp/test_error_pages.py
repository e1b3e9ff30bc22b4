"""A failure on a page is an HTML page with the same status and headers as the API's problem -
404, 405 with Allow, 429 saying how long to wait, 500 with the error id to quote and no trace -
while everything under /api stays problem JSON."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from commerce_core import LoginLocked


def _page(client: FlaskClient, path: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
    response = client.open(path, method=method)
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


def test_an_unknown_page_is_a_404_page_and_an_unknown_api_path_a_problem(
    app_client: FlaskClient,
) -> None:
    status, html, headers = _page(app_client, "/no-such-page")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in html
    assert '<meta name="robots" content="noindex">' in html
    api = app_client.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"


def test_a_wrong_method_keeps_its_allow_header(app_client: FlaskClient) -> None:
    status, html, headers = _page(app_client, "/logout", method="DELETE")
    assert status == 405
    assert "POST" in headers["Allow"]
    assert "<h1>" in html


def test_a_429_page_says_how_long_to_wait(app: Flask, app_client: FlaskClient) -> None:
    def locked() -> str:
        raise LoginLocked(150, "too many attempts")

    app.add_url_rule("/test-locked", "test_locked", locked)
    status, html, headers = _page(app_client, "/test-locked")
    assert status == 429
    assert headers["Retry-After"] == "150"
    assert "about 3 minutes" in " ".join(html.split())


def test_a_500_page_shows_the_error_id_and_no_trace(app: Flask, app_client: FlaskClient) -> None:
    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/test-broken", "test_broken", broken)
    status, html, _ = _page(app_client, "/test-broken")
    assert status == 500
    assert "secret internals" not in html
    assert "Traceback" not in html
    assert "quote error id <code>" in html
