"""Partition DDL on a psycopg connection, for migrations 0004/0005 and the online conversion in
`advisoros_db.partitioning`: the catalog helpers, the partitioned twin, the mirror and the swap."""

from advisoros_db.partitioning.introspect import (
    FUNCTIONS,
    Column,
    Conn,
    columns,
    deparsed,
    drop_functions,
    ensure_state,
    exists,
    incoming_foreign_keys,
    install_functions,
    is_partitioned,
    primary_key,
    set_phase,
    short,
)
from advisoros_db.partitioning.keys import build_registry, registry_columns
from advisoros_db.partitioning.swap import (
    drop_old,
    lock_for_swap,
    mirror_name,
    start_mirror,
    stop_mirror,
    swap,
    unswap,
    validate,
)
from advisoros_db.partitioning.twin import build_partitioned, copy_privileges, secure_partitions

__all__ = [
    "FUNCTIONS",
    "Column",
    "Conn",
    "build_partitioned",
    "build_registry",
    "columns",
    "copy_privileges",
    "deparsed",
    "drop_functions",
    "drop_old",
    "ensure_state",
    "exists",
    "incoming_foreign_keys",
    "install_functions",
    "is_partitioned",
    "lock_for_swap",
    "mirror_name",
    "primary_key",
    "registry_columns",
    "secure_partitions",
    "set_phase",
    "short",
    "start_mirror",
    "stop_mirror",
    "swap",
    "unswap",
    "validate",
]
