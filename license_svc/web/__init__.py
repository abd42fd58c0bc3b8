"""HTTP layer: app factory, problem+json errors, middleware, routes."""

from license_svc.web.app import create_app
from license_svc.web.problems import ProblemError

__all__ = ["create_app", "ProblemError"]
