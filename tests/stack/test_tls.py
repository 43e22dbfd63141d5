"""TLS at the edge: the Mozilla intermediate profile, checked by sslyze and by hand."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.stack.harness import RunningStack

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def sslyze_scan(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One sslyze run against the edge, checked against Mozilla's intermediate profile."""
    report = tmp_path_factory.mktemp("sslyze") / "scan.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sslyze",
            "--mozilla_config=intermediate",
            "--http_headers",
            "--certinfo_ca_file",
            str(stack.ca_file),
            "--json_out",
            str(report),
            f"localhost:{stack.https_port}{{127.0.0.1}}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    scan = json.loads(report.read_text())
    scan["cli"] = {"returncode": result.returncode, "stdout": result.stdout}
    return scan


def scan_result(scan: dict[str, Any], command: str) -> dict[str, Any]:
    (server,) = scan["server_scan_results"]
    assert server["scan_status"] == "COMPLETED"
    attempt = server["scan_result"][command]
    assert attempt["status"] == "COMPLETED", attempt
    return attempt["result"]


def handshake(stack: RunningStack, context: ssl.SSLContext) -> str | None:
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version()


def test_sslyze_finds_the_edge_compliant_with_mozilla_intermediate(
    sslyze_scan: dict[str, Any],
) -> None:
    cli = sslyze_scan["cli"]
    assert "OK - Compliant." in cli["stdout"], cli["stdout"]
    assert cli["returncode"] == 0


def test_sslyze_sees_hsts_for_two_years(sslyze_scan: dict[str, Any]) -> None:
    headers = scan_result(sslyze_scan, "http_headers")
    assert headers["strict_transport_security_header"]["max_age"] == 63072000


@pytest.mark.parametrize(
    "command",
    [
        "ssl_2_0_cipher_suites",
        "ssl_3_0_cipher_suites",
        "tls_1_0_cipher_suites",
        "tls_1_1_cipher_suites",
    ],
)
def test_legacy_protocols_are_refused(sslyze_scan: dict[str, Any], command: str) -> None:
    result = scan_result(sslyze_scan, command)
    assert result["is_tls_version_supported"] is False
    assert result["accepted_cipher_suites"] == []


def test_tls13_and_tls12_are_offered(sslyze_scan: dict[str, Any]) -> None:
    for command in ("tls_1_2_cipher_suites", "tls_1_3_cipher_suites"):
        assert scan_result(sslyze_scan, command)["is_tls_version_supported"] is True


def test_tls13_handshake_succeeds(stack: RunningStack) -> None:
    context = stack.ssl_context()
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
    assert handshake(stack, context) == "TLSv1.3"


def test_tls11_handshake_is_refused_by_the_server(stack: RunningStack) -> None:
    context = stack.ssl_context()
    # Let this client offer TLS 1.1 at all (OpenSSL 3 disables it at the default level).
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as refused:
        handshake(stack, context)
    # The server's protocol_version alert, not a client that could not offer TLS 1.1.
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


def test_server_certificate_follows_the_profile(stack: RunningStack) -> None:
    leaf = x509.load_pem_x509_certificate((stack.state_dir / "tls" / "server.pem").read_bytes())
    ca = x509.load_pem_x509_certificate(stack.ca_file.read_bytes())
    leaf.verify_directly_issued_by(ca)

    public_key = leaf.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(days=366)

    extensions = leaf.extensions
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical is False
    assert "localhost" in san.value.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in san.value.get_values_for_type(x509.IPAddress)}
    constraints = extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is False
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku


@pytest.mark.parametrize("name", ["tls/ca.key", "tls/server.key", "stack.env"])
def test_secrets_on_disk_are_owner_only(stack: RunningStack, name: str) -> None:
    assert (stack.state_dir / name).stat().st_mode & 0o777 == 0o600


def test_nginx_workers_do_not_run_as_root_when_the_master_does(stack: RunningStack) -> None:
    master = int((stack.state_dir / "nginx" / "nginx.pid").read_text())
    workers = [
        int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ]
    assert workers
    master_uid = Path(f"/proc/{master}").stat().st_uid
    for pid in workers:
        worker_uid = Path(f"/proc/{pid}").stat().st_uid
        assert worker_uid != 0 or master_uid != 0
