"""The OpenAPI document the shop serves is a valid OpenAPI 3.1 document.

Clients generate code from it and the hostile-input tests and schemathesis derive their attacks
from it: a document that tools misread would hide routes from both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from webapp.app import create_app
from webapp.config import Settings


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    # No database is touched: the document is served from code.
    app = create_app(Settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'shop.db'}"))
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_the_served_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    errors = [str(error) for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    validate(document)  # the validator's own entry point agrees


def test_the_validator_refuses_a_broken_document(document: dict[str, Any]) -> None:
    """The check above can fail: the same document with one response lacking its required
    description is refused."""
    broken = {**document, "paths": {**document["paths"]}}
    broken["paths"]["/healthz"] = {"get": {"responses": {"200": {}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)
