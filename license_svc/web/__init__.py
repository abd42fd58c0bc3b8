"""HTTP layer: app factory, problem+json errors, middleware, routes.

Names are resolved lazily so that importing a leaf module (e.g. `web.problems` or `web.auth`)
does not pull in the whole app and every route.
"""

__all__ = ["create_app", "ProblemError"]


def __getattr__(name: str):
    if name == "create_app":
        from license_svc.web.app import create_app

        return create_app
    if name == "ProblemError":
        from license_svc.web.problems import ProblemError

        return ProblemError
    raise AttributeError(name)
