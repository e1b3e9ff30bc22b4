"""Schemathesis, driven by the served OpenAPI document, finds no 5xx and no answer that
contradicts the document.

Schemathesis generates requests that fit the document and requests that break it, sends them
to the app in-process (WSGI), and checks every answer with its default checks: no server error,
a documented status code and content type, a body valid against the documented schema, data
the document forbids refused. It runs on SQLite with a bounded number of examples; the number
of requests it made is printed at the end of the run (``conftest.pytest_terminal_summary``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from tests.security.conftest import (
    COOKIES,
    SCHEMATHESIS_REQUESTS,
    WEBHOOK_SECRET,
    Identity,
    SecurityShop,
)
from tests.security.openapi_operations import operations
from webapp.config import Settings

EXAMPLES = 2_000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 200


@pytest.fixture(name="attack_settings")
def sqlite_settings(tmp_path: Path) -> Settings:
    """SQLite only: the hostile-input tests cover PostgreSQL; this one is about the document."""
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret=WEBHOOK_SECRET,
        media_dir=str(tmp_path / "media"),  # images it uploads stay in the test's directory
    )


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    attack_shop: SecurityShop, request: pytest.FixtureRequest
) -> None:
    # Credentials are the harness's to give, as schemathesis' own auth (so that its check that
    # a request without them is refused knows which they are): a signed-in staff member's
    # session where the document asks for one, an anonymous visitor's CSRF binding elsewhere.
    config = SchemathesisConfig.from_dict(
        {
            "generation": {"with-security-parameters": False},
            "checks": {
                # A request the document allows may still be refused by a business rule it
                # cannot state (an unknown product, a refund beyond what was captured: 422).
                "positive_data_acceptance": {"enabled": False},
            },
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", attack_shop.app, config=config)
    needs_session = {
        (op.method.upper(), op.path): op.needs_session for op in operations(attack_shop.document())
    }

    @schema.auth(refresh_interval=None, retry_on=[])
    class ShopCredentials:
        def get(self, case: schemathesis.Case, context: object) -> Identity:
            if needs_session[(case.method.upper(), case.path)]:
                return attack_shop.fresh_staff()  # a generated logout may have ended it
            return attack_shop.anonymous

        def set(self, case: schemathesis.Case, data: Identity, context: object) -> None:
            case.cookies = {
                **(case.cookies or {}),
                COOKIES.session_name: data.session,
                COOKIES.csrf_name: data.csrf,
            }
            case.headers = {**(case.headers or {}), "X-CSRF-Token": data.csrf}

    strategy = st.one_of(
        schema.as_strategy(generation_mode=mode, auth_storage=schema.auth)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )
    request.config.stash[SCHEMATHESIS_REQUESTS] = 0

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def call(case: schemathesis.Case) -> None:
        request.config.stash[SCHEMATHESIS_REQUESTS] += 1
        case.call_and_validate()

    try:
        call()
    except FailureGroup as failures:
        pytest.fail(f"schemathesis: {failures}")
    assert request.config.stash[SCHEMATHESIS_REQUESTS] >= EXAMPLES // 2
