"""advisoros-db: the PostgreSQL data layer of AdvisorOS."""

from advisoros_db.errors import AdvisorOSError
from advisoros_db.settings import Settings, get_settings

__all__ = ["AdvisorOSError", "Settings", "get_settings"]
__version__ = "0.1.0"
