"""The browser pages of `license-svc serve` (docs/api.md): /wallet (a holder's 亮证 and "who looked
at my licences"), /verify (a clerk checks a file or QR code) and /console (an issuing system's
operator issues, lists, suspends and revokes).

The pages are static HTML and small scripts; everything they show comes from the JSON API,
called from the browser with the user's own API key (kept in sessionStorage, never in a URL or
a cookie), so a page can do nothing its user's key could not do with curl.

Modules: `views` (the HTML pages, their static files and security headers), `api` (the few
JSON routes the pages need that the domain routes lack: my licences, an issuer's recent
licences and templates, a fresh EP1 presentation, who am I), `listing` and `presentation` (the
domain functions behind them), `labels` (Chinese wording shared with the HTML report).
"""
