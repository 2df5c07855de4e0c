"""HTTP: FastAPI app factories over library calls (health, metrics); thin."""
