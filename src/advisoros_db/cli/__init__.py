"""The `advisoros-db` command: thin Typer shells over library calls."""

from advisoros_db.extras import require

require("cli")  # before its dependencies are imported: a missing extra names itself
