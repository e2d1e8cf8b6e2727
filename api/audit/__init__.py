"""The audit log's routes: read it and verify its chain (the log itself is kcnguard.cases.audit)."""
