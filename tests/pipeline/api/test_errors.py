"""A RiskwatchError raised by a route is its class's HTTP status and one line of JSON, never a 500."""

from __future__ import annotations

import warnings

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    # starlette's test client announces its move from httpx to httpx2 on import
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from pipeline import errors
from pipeline.api.errors import register_error_handlers


@pytest.fixture
def client():
    app = FastAPI()
    register_error_handlers(app)
    raised: dict[str, Exception] = {
        "usage": errors.UsageError("--week: not a week"),
        "missing": errors.AlertNotFound("no alert a1"),
        "denied": errors.AccessDenied("missing, unknown or revoked token"),
        "forbidden": errors.Forbidden("not your alert"),
        "conflict": errors.InvalidTransition("alert a1 is closed"),
        "down": errors.StorageUnavailable("database not reachable at postgresql://u:***@db/x"),
    }

    @app.get("/{name}")
    def fail(name: str) -> None:
        raise raised[name]

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("name,status,detail", [
    ("usage", 422, "--week: not a week"),
    ("missing", 404, "no alert a1"),
    ("denied", 401, "missing, unknown or revoked token"),
    ("forbidden", 403, "not your alert"),
    ("conflict", 409, "alert a1 is closed"),
    ("down", 503, "服务不可用"),  # the kind of failure, not the URL behind it
])
def test_each_class_is_its_status(client, name, status, detail):
    response = client.get(f"/{name}")
    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_a_401_asks_for_a_bearer_token(client):
    assert client.get("/denied").headers["www-authenticate"] == "Bearer"
    assert "www-authenticate" not in client.get("/forbidden").headers
