"""Server settings for a laptop-sized embedded cluster, stated in one place."""

from __future__ import annotations

# Sized for 2 cores and a few GB to spare: enough shared memory for the benchmark data set to stay
# warm, room for the pools of a router plus tests, and WAL kept long enough for a paused replica
# to catch up without a new base backup.
LAPTOP_SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "300",
    "shared_buffers": "'512MB'",
    "effective_cache_size": "'2GB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'256MB'",
    "max_worker_processes": "8",
    "max_parallel_workers_per_gather": "2",
    "wal_level": "replica",
    "max_wal_senders": "16",
    "max_replication_slots": "16",
    "wal_keep_size": "'512MB'",
    "max_wal_size": "'4GB'",
    "min_wal_size": "'256MB'",
    "checkpoint_timeout": "'15min'",
    "wal_compression": "on",
    # WAL summaries let `backup create --incremental` copy only the blocks changed since the last
    # backup (PostgreSQL 17+).
    "summarize_wal": "on",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "wal_receiver_status_interval": "'1s'",
    "max_standby_streaming_delay": "'5s'",
    "password_encryption": "'scram-sha-256'",
    "shared_preload_libraries": "'pg_stat_statements'",
    "max_locks_per_transaction": "256",
    "jit": "off",
    "random_page_cost": "1.1",
    "logging_collector": "off",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
    "log_min_duration_statement": "'1s'",
    # Statement text stays out of error reports (an ALTER ROLE ... PASSWORD or a value of a
    # tenant's row would land in the log), and a slow statement's bind parameters are not logged.
    "log_min_error_statement": "panic",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
    "timezone": "'UTC'",
}


def render(settings: dict[str, str], port: int) -> str:
    """The node's include file: the shared settings plus its own port."""
    lines = ["# Written by advisoros-db; edit cluster/tuning.py instead.", f"port = {port}"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
