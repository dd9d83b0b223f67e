from shipyard.cli import run

run()
