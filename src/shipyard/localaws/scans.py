"""Image scan results of the embedded AWS's ECR: what a scan of a pushed image found (moto's documented switch).

ECR scans on push; moto answers every scan with one static result unless told another, so a push registers
the result a scan of those bytes gives (clean, or the findings asked for), per digest.
"""

from __future__ import annotations

import json
import urllib.request

from shipyard.aws import Aws
from shipyard.config import Environment


def register_scan(aws: Aws, env: Environment, digest: str, counts: dict[str, int]) -> None:
    """Scan the image and tell the emulator what the scan found (moto's documented moto-api switch)."""
    aws.call("ecr", "StartImageScan", env.region, repositoryName=env.names.repository, imageId={"imageDigest": digest})
    result = {
        "registryId": env.account, "repositoryName": env.names.repository, "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {"findingSeverityCounts": counts, "findings": [
            {"name": f"CVE-2026-{1000 + i}", "severity": severity, "uri": "https://nvd.nist.gov/"}
            for i, (severity, n) in enumerate(counts.items()) for _ in range(n)]},
    }
    body = json.dumps({"results": [result], "region": env.region, "account_id": env.account}).encode()
    request = urllib.request.Request(f"{aws.target.endpoint}/moto-api/static/ecr/scan-finding-results", data=body,
                                     headers={"Content-Type": "application/json", "x-moto-account-id": env.account})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
