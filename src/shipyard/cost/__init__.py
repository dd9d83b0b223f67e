"""Monthly cost estimates priced from the synthesized templates (not from shipyard.toml)."""
