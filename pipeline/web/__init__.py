"""The pages server: the leader's alert pages and phone flow, the alert list for a logged-in leader,
and the analyst's workspace; signed revocable links, CSRF, server-side sessions, security headers.

    site.py       what every page shares: templates, refusals, login/logout, CSRF checks
    links.py      link tokens: HMAC over (alert id, leader id, issued, expiry, nonce); purpose keys
    revocation.py per-leader link revocation (`riskwatch links revoke`, revoked tokens)
    sessions.py   server-side login sessions
    security.py   CSRF tokens, response headers, redaction of tokens in logs
    view.py       what the alert page shows (Chinese), the score-over-time SVG; deadline.py the
                  acknowledgement deadline and next escalation step; casenotes.py a case's notes
    pages.py      the alert page and phone flow routes, and `mount` (everything, on the API's app)
    workspace.py  the analyst's workspace: caseloads, briefs, cases list; casepage.py a case and
                  the decisions; upload.py ledger upload
    templates/, static/page.css
"""
