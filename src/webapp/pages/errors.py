"""Error pages: a failure on a page is shown as an HTML page, the API's problem JSON stays JSON.

Every failure, wherever it is raised (routing, a hook, Flask-WTF's CSRF check, a view, a rate
limit), is first turned into a problem response by ``webapp.problems``: one mapping from errors to
statuses and codes, and one place that logs unexpected errors with their id. For a request that a
browser made to a page, this ``after_request`` hook then re-presents that problem as HTML - same
status, same headers (``Allow``, ``Retry-After`` ...), the same title, detail and error id - so the
HTML pages never disagree with the API about what went wrong, and no error handler has to know
about pages.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template, request

from webapp.problems import PROBLEM_MIMETYPE

__all__ = ["HTML_UNDER_API", "MACHINE_PATHS", "install_error_pages", "is_page_path"]

# Outside /api/ but read by machines (probes, metrics): their failures stay problem JSON.
MACHINE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Under /api/ but read by people (the rendered OpenAPI document): their failures are pages.
HTML_UNDER_API = frozenset({"/api/docs"})
_API_PREFIX = "/api/"
# Headers describing the JSON body; the page's own are set by Flask.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def is_page_path(path: str) -> bool:
    """Whether ``path`` belongs to the HTML side of the site (everything but the API and the
    machine endpoints, but with the API's documentation): its failures are pages."""
    if path in HTML_UNDER_API:
        return True
    return not (path.startswith(_API_PREFIX) or path == "/api" or path in MACHINE_PATHS)


def _as_page(problem: Response) -> Response:
    body: Any = problem.get_json(silent=True)
    details = body if isinstance(body, dict) else {}
    retry_after = problem.headers.get("Retry-After", "")
    page = Response(
        render_template(
            "error.html",
            status=problem.status_code,
            title=str(details.get("title") or problem.status),
            detail=str(details.get("detail") or ""),
            error_id=details.get("error_id"),
            # Seconds to wait (a 429's, a 503's), said in words on the page.
            retry_after=int(retry_after) if retry_after.isdigit() else None,
        ),
        status=problem.status_code,
        mimetype="text/html",
    )
    for name, value in problem.headers.items():
        if name.lower() not in _BODY_HEADERS:
            page.headers.add(name, value)
    return page


def install_error_pages(app: Flask) -> None:
    """Register the hook. Flask runs ``after_request`` hooks for error responses too, in reverse
    order of registration: register this one after the security headers, so that they see the
    page it makes."""

    def problems_as_pages(response: Response) -> Response:
        if response.mimetype != PROBLEM_MIMETYPE or not is_page_path(request.path):
            return response
        return _as_page(response)

    app.after_request(problems_as_pages)
