"""The commands, grouped by what they work on; each parses its arguments, calls one use case (app/) and hands the
result to render.py. Importing a module registers its commands on the one Typer app (cli_options.app)."""
