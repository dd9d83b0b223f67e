"""Image scan results of the embedded AWS's ECR: what a scan of a pushed image found (moto's documented switch).

ECR scans on push; moto answers every scan with one static result unless told another, so a push registers
the result a scan of those bytes gives (clean, or the findings asked for), per digest.
"""

from __future__ import annotations

import json
import urllib.request


def register_scan(endpoint: str, *, account: str, region: str, repository: str, digest: str, counts: dict[str, int]) -> None:
    """Tell the emulator at `endpoint` what a scan of the image found (moto's documented moto-api switch)."""
    result = {
        "registryId": account, "repositoryName": repository, "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {"findingSeverityCounts": counts, "findings": [
            {"name": f"CVE-2026-{1000 + i}", "severity": severity, "uri": "https://nvd.nist.gov/"}
            for i, (severity, n) in enumerate(counts.items()) for _ in range(n)]},
    }
    body = json.dumps({"results": [result], "region": region, "account_id": account}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/static/ecr/scan-finding-results", data=body,
                                     headers={"Content-Type": "application/json", "x-moto-account-id": account})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
