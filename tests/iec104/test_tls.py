"""TLS (IEC 62351-3 style): server certificate, client certificate verification, TLS 1.2+."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from custom_components.grid_ems.iec104 import ConnectionState, create_tls_context

from .conftest import RawClient, Recorder, ServerFactory

type Connect = Callable[..., Awaitable[RawClient]]


@dataclass(frozen=True)
class Pki:
    """Files of a test CA, a server and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    if issuer is None or issuer_key is None:
        # Python 3.13 verifies strictly: a CA needs key usage and key identifiers.
        usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        ).add_extension(usage, critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test CA", ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    _write(directory / "ca.pem", ca, ca_key)
    server = _write(
        directory / "server.pem",
        _certificate("grid-ems", server_key, ca.subject, ca_key),
        server_key,
    )
    client = _write(
        directory / "client.pem", _certificate("rtu", client_key, ca.subject, ca_key), client_key
    )
    return Pki(
        directory / "ca.pem",
        server,
        server.with_suffix(".key"),
        client,
        client.with_suffix(".key"),
    )


def server_context(pki: Pki) -> ssl.SSLContext:
    return create_tls_context(str(pki.server_cert), str(pki.server_key), client_ca_file=str(pki.ca))


def client_context(pki: Pki, *, with_certificate: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if with_certificate:
        context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    return context


async def test_tls_session_with_client_certificate(
    make_server: ServerFactory, connect: Connect, pki: Pki, recorder: Recorder
) -> None:
    server = await make_server(ssl_context=server_context(pki))
    client = await connect(server, ssl=client_context(pki), server_hostname="127.0.0.1")
    end_of_init = await client.start()
    assert end_of_init.common_address == 100
    tls = client.writer.get_extra_info("ssl_object")
    assert tls.version() in {"TLSv1.2", "TLSv1.3"}
    await recorder.wait_for(ConnectionState.STARTED)


def test_context_requires_tls_1_2_and_client_certificates(pki: Pki) -> None:
    context = server_context(pki)
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.verify_mode is ssl.CERT_REQUIRED
    without_ca = create_tls_context(str(pki.server_cert), str(pki.server_key))
    assert without_ca.verify_mode is ssl.CERT_NONE


async def _tls_client_fails(server_address: tuple[str, int], context: ssl.SSLContext) -> bool:
    """Whether a TLS client is refused (handshake error or closed session)."""
    try:
        reader, writer = await asyncio.open_connection(
            *server_address, ssl=context, server_hostname="127.0.0.1"
        )
    except (ssl.SSLError, ConnectionError):
        return True
    try:
        # TLS 1.3 reports a refused client certificate after the handshake, on first read.
        writer.write(bytes.fromhex("680407000000"))
        return not await asyncio.wait_for(reader.read(64), 5)
    except (ssl.SSLError, ConnectionError):
        return True
    finally:
        writer.close()


async def test_clients_without_certificate_are_refused(
    make_server: ServerFactory,
    connect: Connect,
    pki: Pki,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two connections: the refused one may still be unwinding when the good one arrives.
    server = await make_server(ssl_context=server_context(pki), max_connections=2)
    with caplog.at_level(logging.WARNING):
        assert await _tls_client_fails(server.address, client_context(pki, with_certificate=False))
    assert "TLS handshake with 127.0.0.1 failed" in caplog.text
    assert not any(event.state is ConnectionState.CONNECTED for event in recorder.events)
    client = await connect(server, ssl=client_context(pki), server_hostname="127.0.0.1")
    assert (await client.start()).common_address == 100


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_old_tls_versions_are_refused(
    make_server: ServerFactory, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server(ssl_context=server_context(pki))
    old = client_context(pki)
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer TLS 1.1 at all
    old.minimum_version = ssl.TLSVersion.TLSv1_1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    with caplog.at_level(logging.WARNING):
        assert await _tls_client_fails(server.address, old)
    assert "TLS handshake with 127.0.0.1 failed" in caplog.text


async def test_plain_client_hanging_up_during_handshake(
    make_server: ServerFactory, connect: Connect, pki: Pki
) -> None:
    server = await make_server(ssl_context=server_context(pki))
    plain = await connect(server)
    await plain.send_raw(bytes.fromhex("680407000000"))  # not a TLS ClientHello
    assert await plain.closed_by_server()
    client = await connect(server, ssl=client_context(pki), server_hostname="127.0.0.1")
    assert (await client.start()).common_address == 100


async def test_allow_list_applies_before_the_handshake(
    make_server: ServerFactory, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server(ssl_context=server_context(pki), allowed_clients=["192.0.2.1"])
    assert await _tls_client_fails(server.address, client_context(pki))
    assert "address not in the allow-list" in caplog.text
    assert "TLS handshake" not in caplog.text


async def test_connection_replaced_during_its_handshake(
    make_server: ServerFactory,
    connect: Connect,
    pki: Pki,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connection still in its TLS handshake is replaced by the RTU's new one: it is closed,
    never reported as connected, and the new one is served."""
    server = await make_server(ssl_context=server_context(pki))
    stalled = await connect(server)  # connected, says nothing: waits in the handshake
    client = await connect(server, ssl=client_context(pki), server_hostname="127.0.0.1")
    assert (await client.start()).common_address == 100

    assert await stalled.closed_by_server()
    assert [event.state for event in recorder.events].count(ConnectionState.CONNECTED) == 1
    assert "replaced by a new connection" in caplog.text
    assert "TLS handshake with 127.0.0.1 failed" not in caplog.text  # it did not fail: replaced
