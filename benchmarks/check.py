"""Time `shipyard check` (cdk-nag + cfn-lint + own rules) on both example environments, in a fresh process.

Usage: python benchmarks/check.py [--runs N]. Target: <= 15 s wall on 2 cores.
"""

from _timing import run

if __name__ == "__main__":
    run("shipyard check, staging+production", lambda config, scratch: ["check"])
