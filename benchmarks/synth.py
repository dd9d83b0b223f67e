"""Time `shipyard synth` of both example environments, end to end in a fresh process.

Usage: python benchmarks/synth.py [--runs N]. Target: <= 5 s wall on 2 cores.
"""

from _timing import run

if __name__ == "__main__":
    run("shipyard synth, staging+production in one process", lambda config, scratch: ["synth", "--out", str(scratch / "out")])
