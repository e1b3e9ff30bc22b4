"""``GET /api/docs``: an HTML page under ``/api`` rendering the OpenAPI document with Swagger UI
served from its PyPI package under content-hashed, long-cached URLs; no third-party URL, no
inline script, a policy relaxed for this page only, and its failures shown as HTML pages."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from flask.testing import FlaskClient

from webapp.assets import ASSET_CACHE_CONTROL
from webapp.pages.api_docs import DOCS_PAGE_POLICY, VIEWER_FILES
from webapp.security_headers import PAGE_POLICY

DIST = Path(str(resources.files("flask_swagger_ui").joinpath("dist")))


def _page(client: FlaskClient) -> str:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def _sources(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_page_is_html_with_one_heading_and_the_documents_url(
    app_client: FlaskClient,
) -> None:
    html = _page(app_client)

    assert html.count("<h1") == 1
    assert "<h1>Commerce API documentation</h1>" in html
    assert "Version 0.1.0 · OpenAPI 3.1.0" in html
    assert 'data-spec-url="/api/openapi.json"' in html
    assert app_client.get("/api/openapi.json").status_code == 200


def test_the_page_is_private_and_revalidated_not_the_apis_no_store(
    app_client: FlaskClient,
) -> None:
    response = app_client.get("/api/docs")

    assert response.headers["Cache-Control"] == "private, no-cache"


def test_every_script_and_stylesheet_is_served_by_the_shop_itself(
    app_client: FlaskClient,
) -> None:
    html = _page(app_client)

    assert not re.search(r"https?://", html)  # no CDN, no third-party anything
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) == 2
    for attributes, body in scripts:
        assert 'src="/assets/' in attributes
        assert body.strip() == ""  # no inline script
    assert "style=" not in html.lower()
    for url in _sources(html):
        if url.startswith("/assets/"):
            assert app_client.get(url).status_code == 200, url


def test_the_viewers_files_are_the_packages_cached_for_a_year_under_hashed_names(
    app_client: FlaskClient,
) -> None:
    html = _page(app_client)
    served = [url for url in _sources(html) if url.startswith("/assets/swagger-ui/")]

    assert len(served) == len(VIEWER_FILES)
    for logical in VIEWER_FILES:
        stem, _, suffix = logical.rpartition(".")
        (url,) = [
            u
            for u in served
            if re.fullmatch(rf"/assets/swagger-ui/{stem}\.[0-9a-f]{{12}}\.{suffix}", u)
        ]
        response = app_client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == ASSET_CACHE_CONTROL
        assert response.get_data() == (DIST / logical).read_bytes()
        assert response.mimetype == ("text/css" if suffix == "css" else "text/javascript")
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_initialiser_is_a_static_file_of_the_shop(app_client: FlaskClient) -> None:
    html = _page(app_client)
    (url,) = [
        u for u in _sources(html) if re.fullmatch(r"/assets/js/api-docs\.[0-9a-f]{12}\.js", u)
    ]

    body = app_client.get(url).get_data(as_text=True)

    assert "SwaggerUIBundle(" in body
    assert "validatorUrl: null" in body  # nothing is sent to the public validator


def test_anything_else_under_the_viewers_path_is_a_404(app_client: FlaskClient) -> None:
    assert app_client.get("/assets/swagger-ui/swagger-ui-bundle.js").status_code == 404
    assert app_client.get("/assets/swagger-ui/index.html").status_code == 404
    assert app_client.get("/assets/swagger-ui/swagger-ui.000000000000.css").status_code == 404


def test_only_this_page_may_show_data_images_and_scripts_stay_self_only(
    app_client: FlaskClient,
) -> None:
    docs = app_client.get("/api/docs").headers["Content-Security-Policy"]
    sign_in = app_client.get("/login").headers["Content-Security-Policy"]

    assert docs == DOCS_PAGE_POLICY
    assert "img-src 'self' data:" in docs
    assert "script-src 'self';" in docs
    assert "style-src 'self';" in docs
    assert "unsafe" not in docs
    assert sign_in == PAGE_POLICY


def test_its_failures_are_html_pages_while_the_apis_stay_problem_json(
    app_client: FlaskClient,
) -> None:
    refused = app_client.post("/api/docs")
    beside = app_client.get("/api/docs/nothing-here")

    assert refused.status_code == 405
    assert refused.mimetype == "text/html"
    assert "<h1>" in refused.get_data(as_text=True)
    assert "POST" not in refused.headers["Allow"]
    assert beside.status_code == 404
    assert beside.mimetype == "application/problem+json"


def test_the_site_footer_links_to_it(app_client: FlaskClient) -> None:
    assert 'href="/api/docs"' in app_client.get("/login").get_data(as_text=True)
