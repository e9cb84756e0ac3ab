"""The JSON API against the OpenAPI document it serves, with schemathesis and every one of its checks.

Schemathesis' own engine runs in-process (what `schemathesis run` does) on the app through its WSGI loader: the
examples, coverage and fuzzing phases, positive and negative data, all built-in checks. CI runs a few hundred
cases on SQLite, the same ones every run; PORTAL_CONFORMANCE_EXAMPLES asks for more per operation and phase."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis.engine import Status, events
from schemathesis.specs.openapi import _auth_retry
from schemathesis.specs.openapi.checks import RejectedPositiveData

from forms_api.openapi import ID_FORMAT
from forms_api.privacy import ID_CHECK, ID_WEIGHTS
from tests.conftest import ROOT

EXAMPLES = int(os.environ.get("PORTAL_CONFORMANCE_EXAMPLES") or 0)
CI_EXAMPLES = 20  # per operation and phase: ~300 cases in all, a few seconds
API_KEY = "conformance-key"
REUSED_KEY = "Idempotency-Key 已用于内容不同的另一次提交"


def _with_check_character(digits: str) -> str:
    """A resident ID number: 17 digits and their GB 11643 check character."""
    return digits + ID_CHECK[sum(int(d) * w for d, w in zip(digits, ID_WEIGHTS, strict=True)) % 11]


# The document names the format; schemathesis learns here how to write a valid value of it.
schemathesis.openapi.format(ID_FORMAT, st.text("0123456789", min_size=17, max_size=17).map(_with_check_character))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The backend once for the module, on SQLite, with one key and limits schemathesis never reaches."""
    from forms_api import create_app

    tmp = tmp_path_factory.mktemp("conformance")
    flask_app = create_app({
        "DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}", "PORTAL_INSTANCE": str(tmp / "instance"),
        "PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml"),
        "PORTAL_SITE_DIR": str(tmp / "site"), "RATELIMIT_STORAGE_URI": "memory://",
        "PORTAL_API_KEYS": f"conformance:{API_KEY}", "PORTAL_RATELIMIT_API": "1000000 per minute",
    })  # fmt: skip
    flask_app.config["TESTING"] = True
    yield flask_app
    flask_app.extensions["engine"].dispose()


@dataclass
class Run:
    """What one schemathesis run did: cases per operation, failures with their reproduction, engine errors."""

    cases: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, event: events.EngineEvent) -> None:
        """Count the cases and keep every failure's text and code sample."""
        if isinstance(event, events.ScenarioFinished):
            for node in event.recorder.cases.values():
                self.cases[node.value.operation.label] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        self.failures.append(f"{failure.operation}: {failure.title}\n{failure.message}\n"
                                             f"{check.failure_info.code_sample}")  # fmt: skip
        elif isinstance(event, events.NonFatalError | events.FatalError):
            self.errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", None)))
        elif isinstance(event, events.EngineFinished):
            self.seconds = event.running_time


def _schema(app: Flask) -> Any:
    """The document as the app serves it, through schemathesis' WSGI loader, with the run's settings."""
    config = schemathesis.Config.from_dict({
        "headers": {"X-API-Key": API_KEY},
        "seed": 20261123,
        "generation": {"mode": "all", "max-examples": EXAMPLES or CI_EXAMPLES, "database": "none",
                       "deterministic": not EXAMPLES},
    })  # fmt: skip
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)

    @schema.hook
    def filter_failure(_context: Any, failure: Any, _case: Any, response: Any) -> bool:
        """Keep every failure but one: a schema-valid body sent with a key already used for another body.

        The 422 is documented and deliberate (the first receipt is never handed to different content); the
        request is valid data, only not new data, which a stateless check cannot know."""
        reused = isinstance(failure, RejectedPositiveData) and response.status_code == 422
        return not (reused and REUSED_KEY in response.content.decode("utf-8", "replace"))

    return schema


def _in_process(build: Any) -> Any:
    """schemathesis 4.32's `ignored_auth` probe hands socket settings (max_redirects, verify …) to the WSGI
    transport, which passes them to werkzeug's client and fails; an in-process call has no use for them."""

    def without_socket_settings(*args: Any, **kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = build(*args, **kwargs)
        return {k: v for k, v in found.items() if k not in ("max_redirects", "verify", "cert", "proxies")}

    return without_socket_settings


def test_api_conforms_to_its_document(
    app: Flask, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every answer documented (status, content type, body, Allow on 405), valid data accepted, invalid refused."""
    monkeypatch.setattr(
        _auth_retry, "build_retry_transport_kwargs", _in_process(_auth_retry.build_retry_transport_kwargs)
    )
    run = Run()
    for event in schemathesis.engine.from_schema(_schema(app)).execute():
        run.record(event)
    _report(request, run)
    assert not run.errors, "\n".join(run.errors)
    assert not run.failures, "\n\n".join(run.failures[:10])
    # Every operation but GET /openapi.json, which schemathesis never sends cases to: it serves the document itself.
    assert set(run.cases) == {"POST /complaints", "POST /evaluations", "GET /cases/{receipt_no}"}
    assert sum(run.cases.values()) >= 100


def _report(request: pytest.FixtureRequest, run: Run) -> None:
    """Cases per operation and failures, on the terminal."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # shown without -s: the figures are what a larger run is for
        per_operation = ", ".join(f"{label} {n}" for label, n in sorted(run.cases.items()))
        reporter.write_line("")
        reporter.write_line(f"schemathesis: {sum(run.cases.values())} cases ({per_operation}), "
                            f"{len(run.failures)} failures, {len(run.errors)} errors, {run.seconds:.1f} s")  # fmt: skip


def test_the_document_lists_this_halls_targets(app: Flask) -> None:
    from forms_api.catalogue import all_targets

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    complaint = document["paths"]["/complaints"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    evaluation = document["paths"]["/evaluations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    with app.app_context():
        keys = sorted(t.key for t in all_targets())
    assert complaint["properties"]["target"]["enum"] == [*keys, "other"]
    assert evaluation["properties"]["target"]["enum"] == keys
