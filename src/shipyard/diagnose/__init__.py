"""Diagnosis: what is true now (status) and the first broken link (explain)."""
