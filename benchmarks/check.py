"""Time `shipyard check` (cdk-nag + cfn-lint + own rules) of the example's environments, in a fresh process.

Usage: python benchmarks/check.py [--runs N] [--environments N] [--warm].
Targets on 2 cores: <= 5 s for the two environments with an empty cache, <= 1 s per further environment.
"""

from _timing import run

if __name__ == "__main__":
    run("shipyard check", lambda config, scratch: ["check"])
