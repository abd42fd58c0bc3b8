"""Entry point of the worker processes of `license-svc serve --workers N`.

Its own module, holding nothing but `app`, so that a worker configures JSON logging (and the
capture of Python warnings into it) *before* it imports the application: a dependency that
warns at import time (pyHanko importing a class cryptography deprecates) would otherwise write
a raw text line into a log stream that is JSON, one object per line.  The parent has already
migrated and seeded, so a worker only opens its context from the environment it was given.
"""

from __future__ import annotations

import os

from license_svc.logs import configure_logging


def app():
    """uvicorn factory (`factory=True`)."""
    configure_logging(os.environ.get("LICENSE_SVC_LOG_LEVEL", "INFO"))
    from license_svc.bootstrap import bootstrap
    from license_svc.config import load_settings
    from license_svc.web.app import create_app

    return create_app(ctx=bootstrap(load_settings(), seed=False))
