"""HTTP: FastAPI app factories over library calls (health, metrics); thin."""

from advisoros_db.extras import require

require("http")  # before its dependencies are imported: a missing extra names itself

from advisoros_db.http.health import HealthSource, create_app, create_health_router  # noqa: E402

__all__ = ["HealthSource", "create_app", "create_health_router"]
