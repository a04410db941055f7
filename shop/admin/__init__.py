"""Admin pages: people, roles, deactivation, the HR roster upload and the audit log."""
