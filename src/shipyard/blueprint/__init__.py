"""WHAT to build: CDK constructs for one environment, composed into stacks.

One construct per module, keyword-only props after `*`, resources exposed as
attributes. Nothing here talks to AWS; synth.py instantiates it.
"""
