"""WHAT to build: CDK constructs for one environment, composed into stacks.

One construct per module, keyword-only props after `*`, resources exposed as
attributes. Nothing here talks to AWS; synth.py instantiates it.
"""

from shipyard.node import use_bundled_node

# Every module here imports aws_cdk, whose first import starts Node.js:
# make it the wheel's Node.js, whoever imports the blueprint first.
use_bundled_node()
