"""Document intelligence search: chunking, embedders, full-text, semantic and hybrid search."""

from advisoros_db.extras import require

require("search")  # before its dependencies are imported: a missing extra names itself
