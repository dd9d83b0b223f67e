"""shipyard: a secure, two-environment AWS platform for one containerized web service."""

__version__ = "0.1.0"
