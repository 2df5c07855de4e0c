"""Document intelligence search: chunking, embedders, full-text, semantic and hybrid search."""
