"""Admin endpoints: API keys, users, the audit trail."""
