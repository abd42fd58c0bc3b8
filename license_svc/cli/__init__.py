"""`license-svc` command line.  Each command group lives in its own module and registers here.

Exit codes (docs/api.md): 0 passed/ok, 1 failed, 2 indeterminate, 3 unreadable input or usage.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="长三角电子证照与电子印章服务 / YRD electronic licence and seal service")


def _register() -> None:
    # Import for side effects: each module adds its commands to `app`.
    from license_svc.cli import keys  # noqa: F401
    from license_svc.cli import devpki, pki  # noqa: F401
    from license_svc.cli import serve  # noqa: F401
    from license_svc.cli import clients  # noqa: F401
    from license_svc.cli import audit  # noqa: F401
    from license_svc.cli import seal  # noqa: F401
    from license_svc.cli import issue  # noqa: F401
    from license_svc.cli import verify  # noqa: F401
    from license_svc.cli import trustlist  # noqa: F401
    from license_svc.cli import federation  # noqa: F401
    from license_svc.cli import backup  # noqa: F401
    from license_svc.cli import openapi  # noqa: F401
    from license_svc.cli import db  # noqa: F401


def main() -> None:
    from formats import libraries

    libraries.install()  # first: the commands' imports must not warn (formats/libraries.py)
    _register()
    try:
        # With standalone_mode=False click returns typer.Exit codes instead of exiting.
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(3)
    except Exception as exc:  # click usage errors and our bilingual errors
        # Typer >= 0.20 vendors click (typer._click), so match by shape, not by class.
        if callable(getattr(exc, "show", None)) and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(3)
        raise
