"""What `up` does once the servers run: migrate to head, then optionally load demo data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisoros_db.cli.output import console, hide_progress

if TYPE_CHECKING:
    from advisoros_db.targets import Target


def after_up(target: Target, *, demo: bool, quiet: bool) -> None:
    from advisoros_db import migrations

    migrations.upgrade(target.admin_url)
    if not quiet:
        console.print(f"migrated to {migrations.current(target.admin_url) or 'base'}")
    if demo:
        from advisoros_db.cli.seed import progress_bar

        with progress_bar(hide_progress(quiet)) as progress:
            from advisoros_db import datagen  # numpy and Faker: only for demo data

            loaded = datagen.load_demo(target.admin_url, progress=progress)
        if not quiet:
            if loaded is None:
                console.print("demo data: the database already holds data; left as it is")
            else:
                seeded = loaded.seeded
                console.print(
                    f"demo data: {seeded.rows:,} rows in {len(seeded.tables)} tables "
                    f"({seeded.rows_per_second:,.0f} rows/s); {loaded.embedded} documents of "
                    f"organization {loaded.organization_id} embedded for semantic search"
                )
