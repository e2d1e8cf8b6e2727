"""Cases: one suspect listing of one brand, moved through its states by inspectors and partners."""
