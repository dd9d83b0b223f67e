"""Bringing an AWS Copilot app over: its workspace read as untrusted input (workspace.py), translated key by key into
shipyard.toml with a report of where every key went (translate.py)."""
