"""Partitioning: audit_logs by month and documents by tax year; maintenance and online conversion."""
