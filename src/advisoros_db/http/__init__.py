"""HTTP: FastAPI app factories over library calls (health, metrics); thin."""

from advisoros_db.http.health import HealthSource, create_app, create_health_router

__all__ = ["HealthSource", "create_app", "create_health_router"]
