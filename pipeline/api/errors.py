"""The HTTP side of the one error tree (pipeline/errors.py): a RiskwatchError raised by any route of the
API, the pages or HTTP ingest becomes the class's HTTP status with a one-line JSON body
`{"detail": message}`, never a 500 with a traceback. Routes raise; they do not convert.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pipeline.errors import AccessDenied, RiskwatchError


def riskwatch_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.http_status if isinstance(exc, RiskwatchError) else 500
    # a server-side failure says what kind it was, not its internals (URLs, paths, SQL)
    detail = " ".join(str(exc).split()) if status < 500 else getattr(exc, "label", "error")
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 and isinstance(exc, AccessDenied) else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RiskwatchError, riskwatch_error)
