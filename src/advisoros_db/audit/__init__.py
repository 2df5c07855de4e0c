"""The tamper-evident audit trail: the database stamps each audit_logs row with the time and the
acting user, and chains it to the previous row of its organization by hash; `verify` proves it."""

from advisoros_db.audit.chain import USER_SETTING, act_as
from advisoros_db.audit.verify import Break, ChainReport, verify

__all__ = ["USER_SETTING", "Break", "ChainReport", "act_as", "verify"]
