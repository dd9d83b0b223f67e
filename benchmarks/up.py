"""Time `shipyard up` (embedded AWS: deploy, publish and verify staging and production) end to end.

Usage: python benchmarks/up.py [--runs N]. Target: <= 60 s wall on 2 cores.
"""

from _timing import run


def _breakdown(stderr: str) -> str:
    return next((line for line in stderr.splitlines() if line.startswith("time: ")), "")


if __name__ == "__main__":
    run("shipyard up, staging+production on the embedded AWS", lambda config, scratch: ["up"], detail=_breakdown)
