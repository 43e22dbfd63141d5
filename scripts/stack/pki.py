"""A development certificate authority and the server certificate nginx presents.

Clients are told to trust ``ca.pem`` — never the server certificate itself —
so the leaf can be re-issued (it lives at most a year, as the Mozilla
intermediate profile requires) without touching any client. Keys are ECDSA
P-256, the profile's recommended certificate type; private keys are written
0600 and never leave ``tls_dir``. Existing files are reused while they are
still valid, so a restart does not invalidate what clients already trust.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from scripts.stack.files import write_private, write_public

CA_LIFETIME = timedelta(days=5 * 365)
LEAF_LIFETIME = timedelta(days=365)
"""Mozilla's intermediate profile allows at most 366 days."""
RENEW_BEFORE = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=5)
ORGANIZATION = "Housing Price API (development)"
DEFAULT_DNS_NAMES = ("localhost",)
DEFAULT_IP_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    directory: Path

    @property
    def ca_certificate(self) -> Path:
        """The file clients trust."""
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def certificate(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key(self) -> Path:
        return self.directory / "server.key"

    @property
    def dhparam(self) -> Path:
        return self.directory / "dhparam.pem"


def ensure_dev_pki(
    directory: Path,
    dns_names: tuple[str, ...] = DEFAULT_DNS_NAMES,
    ip_addresses: tuple[str, ...] = DEFAULT_IP_ADDRESSES,
) -> TlsFiles:
    """Create whatever is missing or stale under ``directory``; return the file layout."""
    files = TlsFiles(directory)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    now = datetime.now(UTC)

    ca_cert, ca_key = _load_or_create_ca(files, now)
    if not _leaf_is_usable(files, ca_cert, dns_names, ip_addresses, now):
        _issue_leaf(files, ca_cert, ca_key, dns_names, ip_addresses, now)
    if not files.dhparam.is_file():
        _write_ffdhe2048(files.dhparam)
    return files


def _load_or_create_ca(
    files: TlsFiles, now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if files.ca_certificate.is_file() and files.ca_key.is_file():
        cert = x509.load_pem_x509_certificate(files.ca_certificate.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > now:
            return cert, key

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, "Housing Price API development CA"),
        ]
    )
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(files.ca_key, _key_pem(key))
    write_public(files.ca_certificate, cert.public_bytes(serialization.Encoding.PEM))
    # A new CA invalidates the old leaf.
    files.certificate.unlink(missing_ok=True)
    return cert, key


def _leaf_is_usable(
    files: TlsFiles,
    ca_cert: x509.Certificate,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    now: datetime,
) -> bool:
    if not (files.certificate.is_file() and files.key.is_file()):
        return False
    leaf = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    try:
        leaf.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, x509.InvalidSignature):
        return False
    if leaf.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    wanted = set(_general_names(dns_names, ip_addresses))
    return wanted <= set(san)


def _issue_leaf(
    files: TlsFiles,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    now: datetime,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public_key = key.public_key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                    x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0]),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now - CLOCK_SKEW + LEAF_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        # RFC 5280 makes the SAN critical only when the subject is empty; it is not.
        .add_extension(
            x509.SubjectAlternativeName(_general_names(dns_names, ip_addresses)), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.key, _key_pem(key))
    write_public(files.certificate, cert.public_bytes(serialization.Encoding.PEM))


def _general_names(
    dns_names: tuple[str, ...], ip_addresses: tuple[str, ...]
) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    return names


def _write_ffdhe2048(path: Path) -> None:
    """The RFC 7919 ffdhe2048 group the Mozilla profile names, as nginx's ``ssl_dhparam``.

    OpenSSL knows the named group, so nothing is generated and no prime is copied.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to write dhparam.pem")
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [openssl, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_param:ffdhe2048"],
        check=True,
        capture_output=True,
    )
    write_public(path, result.stdout)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
