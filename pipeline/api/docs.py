"""`GET /docs`: the API's operations as a plain page built from the OpenAPI document.

Swagger UI's page loads its scripts from a CDN, on the same origin as the pages' session cookie: a
script from elsewhere could act with that cookie. This page has no script at all (CSP
`default-src 'none'`, our own stylesheet only); machines read `/openapi.json`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from markupsafe import escape

CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
METHODS = ("get", "post", "put", "patch", "delete")


def docs_html(spec: dict) -> str:
    info = spec.get("info", {})
    rows = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            codes = ", ".join(sorted(op.get("responses", {})))
            params = ", ".join(f"{p['name']} ({p['in']})" for p in op.get("parameters", []))
            body = "JSON" if "requestBody" in op else ""
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
                        f"<td>{escape(op.get('summary', ''))}</td><td>{escape(params)}</td><td>{body}</td>"
                        f"<td>{escape(codes)}</td></tr>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(info.get('title', 'API'))}</title><link rel=\"stylesheet\" href=\"/static/page.css\">"
            "</head><body><main>"
            f"<h1>{escape(info.get('title', 'API'))} {escape(info.get('version', ''))}</h1>"
            f"<p>{escape(info.get('description', ''))}</p>"
            "<p>The machine-readable document: <a href=\"/openapi.json\">/openapi.json</a>.</p>"
            "<table class=\"grid\"><thead><tr><th>method</th><th>path</th><th>what</th><th>parameters</th>"
            "<th>body</th><th>responses</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            "</main></body></html>")


def mount_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()), headers=HEADERS)
