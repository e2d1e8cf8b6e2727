"""The Management Board's side: legal documents, announcements, dashboard, exports, monthly report."""
