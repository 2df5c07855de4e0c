"""Read-replica routing: pure decisions over a state snapshot, health monitor, session shells."""
