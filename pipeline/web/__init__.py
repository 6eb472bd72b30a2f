"""The leader's alert pages: the page a notification links to, the alert list for a
logged-in leader, signed one-time links, CSRF, sessions and security headers.

    links.py     link tokens: HMAC over (alert id, leader id, expiry, nonce); purpose keys
    security.py  CSRF tokens, login sessions, response headers, redaction of tokens in logs
    view.py      what the page shows (Chinese), the score-over-time SVG
    pages.py     the routes, mounted on pipeline.api.app.create_app's app by `riskwatch api`
    templates/, static/page.css
"""
