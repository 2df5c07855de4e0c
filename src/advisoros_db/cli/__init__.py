"""The `advisoros-db` command: thin Typer shells over library calls."""
