"""Use cases, one per command: they pick the target, wire the stages and return typed results.

target.py is the composition root, the one module outside localaws/ that
knows the embedded AWS exists. cli.py parses arguments, calls a use case and
hands its result to render.py.
"""
