"""Independent verifiers our output must satisfy: pkilint and the openssl CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PKILINT_BIN = Path(sys.executable).parent
_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", re.DOTALL)


def pem_blocks(chain_pem: str) -> list[str]:
    """The certificates of a PEM text (an answer's `chain_pem`), each as its own PEM, in order;
    the whole text must be those blocks and nothing else."""
    blocks = _PEM_BLOCK.findall(chain_pem)
    assert "".join(blocks) == chain_pem, "chain_pem is PEM certificates and nothing else"
    return blocks


def pkilint_findings(tool: str, *paths: str) -> list[str]:
    """ERROR/WARNING/FATAL findings of a pkilint console script (INFO and NOTICE are fine)."""
    result = subprocess.run(
        [str(PKILINT_BIN / tool), "lint", "-s", "WARNING", "-f", "JSON", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip(), f"{tool} produced no report: {result.stderr}"
    findings = [
        f"{entry['node_path']}: {finding['severity']} {finding['code']} {finding['message'] or ''}"
        for entry in json.loads(result.stdout)["results"]
        for finding in entry["finding_descriptions"]
    ]
    # The exit status counts findings at or above the threshold: the two must agree.
    assert (result.returncode == 0) == (not findings), (result.returncode, findings, result.stderr)
    return findings


def assert_pkilint_clean(tool: str, *paths: str) -> None:
    findings = pkilint_findings(tool, *paths)
    assert findings == [], f"{tool} {' '.join(paths)}:\n" + "\n".join(findings)


def openssl_verify(
    directory: Path, leaf_pem: str, issuing_pem: str, root_pem: str
) -> subprocess.CompletedProcess:
    (directory / "leaf.pem").write_text(leaf_pem)
    (directory / "issuing.pem").write_text(issuing_pem)
    (directory / "root.pem").write_text(root_pem)
    return subprocess.run(
        ["openssl", "verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "leaf.pem"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )


def openssl_cms_verify(
    directory: Path, signature_der: bytes, chain_pem: str, content: bytes | None = None
) -> subprocess.CompletedProcess:
    """`openssl cms -verify` of DER SignedData against our CA chain; with `content`, as a detached
    signature over it. On success stdout holds the signed content."""
    (directory / "signature.der").write_bytes(signature_der)
    (directory / "ca.pem").write_text(chain_pem)
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "signature.der"]
    command += ["-CAfile", "ca.pem", "-purpose", "any"]
    if content is not None:
        (directory / "content.bin").write_bytes(content)
        command += ["-content", "content.bin"]
    return subprocess.run(command, cwd=directory, capture_output=True, check=False)
