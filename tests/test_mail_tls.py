"""The digest e-mail travels encrypted, against real aiosmtpd servers.

A server that does not offer STARTTLS (as when someone on the path strips it from the EHLO
reply) gets neither the password nor the message; STARTTLS and implicit TLS (smtps://) send
with the server's certificate verified (here a CA made for the test and trusted through
``ca_file``, i.e. ``HEARTH_SMTP_CA_FILE``); only ``?tls=none`` sends in clear.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.settings import load_settings, parse_smtp_url
from cogs.digests._mail import MAIL_ERRORS, EncryptionNotOffered, send_email

PASSWORD = "s3cret-pass"


# ---------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA and a certificate it issued for 127.0.0.1 / localhost."""
    out = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Hearth test CA"))
        .issuer_name(_name("Hearth test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
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
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(out / "ca.pem", out / "server.pem", out / "server.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


# ---------------------------------------------------------------------------- the server


def _on_tls(server: Any) -> bool:
    return server.transport.get_extra_info("ssl_object") is not None


@dataclass
class Recorder:
    """What reached the server, and whether the connection was encrypted at that moment."""

    logins: list[tuple[str, str, bool]] = field(default_factory=list)
    senders: list[tuple[str, bool]] = field(default_factory=list)
    messages: list[tuple[bytes, bool]] = field(default_factory=list)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password, _on_tls(server)))
        return AuthResult(success=password == PASSWORD)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.senders.append((address, _on_tls(server)))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.content, _on_tls(server)))
        return "250 OK"

    @property
    def anything(self) -> bool:
        return bool(self.logins or self.senders or self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(**aiosmtpd_options) -> (port, recorder)``; servers stop after the test."""
    controllers: list[Controller] = []

    def start(**options: Any) -> tuple[int, Recorder]:
        recorder, port = Recorder(), free_port()
        controller = Controller(
            recorder,
            hostname="127.0.0.1",
            port=port,
            authenticator=recorder.authenticate,
            **options,
        )
        controller.start()
        controllers.append(controller)
        return port, recorder

    yield start
    for controller in controllers:
        controller.stop()


def digest_email() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "hearth@example.org", "s@example.org", "Digest"
    msg.set_content("The stories of the week: CONFIDENTIAL-MARKER")
    return msg


# ---------------------------------------------------------------------------- tests


async def test_server_without_starttls_gets_no_password_and_no_mail(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # What an attacker who strips STARTTLS from the EHLO reply presents: AUTH in clear.
    port, server = serve(auth_require_tls=False)
    with pytest.raises(EncryptionNotOffered) as err:
        await send_email(f"smtp://hearth:{PASSWORD}@127.0.0.1:{port}", digest_email())
    assert isinstance(err.value, MAIL_ERRORS)  # so delivery reports it like any failure
    assert not server.anything, server
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    text = logged.getMessage()
    assert "does not offer STARTTLS" in text and "was not sent" in text
    assert "smtps://" in text and "tls=none" in text
    assert PASSWORD not in text


async def test_starttls_sends_encrypted_to_a_server_trusted_through_the_ca_file(
    serve: Any, pki: Pki
) -> None:
    port, server = serve(tls_context=pki.server_context(), require_starttls=True)
    url = f"smtp://hearth:{PASSWORD}@127.0.0.1:{port}"
    await send_email(url, digest_email(), ca_file=pki.ca_file)
    assert server.logins == [("hearth", PASSWORD, True)]
    assert server.senders == [("hearth@example.org", True)]
    [(content, on_tls)] = server.messages
    assert on_tls and b"CONFIDENTIAL-MARKER" in content


async def test_starttls_refuses_a_certificate_nobody_vouches_for(serve: Any, pki: Pki) -> None:
    port, server = serve(tls_context=pki.server_context(), require_starttls=True)
    with pytest.raises(MAIL_ERRORS):
        await send_email(f"smtp://hearth:{PASSWORD}@127.0.0.1:{port}", digest_email())
    assert not server.anything, server


async def test_smtps_sends_over_implicit_tls(serve: Any, pki: Pki) -> None:
    # aiosmtpd only counts STARTTLS as TLS for AUTH; here the socket is TLS from the start.
    port, server = serve(ssl_context=pki.server_context(), auth_require_tls=False)
    url = f"smtps://hearth:{PASSWORD}@127.0.0.1:{port}"
    await send_email(url, digest_email(), ca_file=pki.ca_file)
    assert server.logins == [("hearth", PASSWORD, True)]
    [(content, on_tls)] = server.messages
    assert on_tls and b"CONFIDENTIAL-MARKER" in content


async def test_tls_none_sends_in_clear_to_a_local_relay(serve: Any) -> None:
    port, server = serve()
    await send_email(f"smtp://127.0.0.1:{port}?tls=none", digest_email())
    assert server.logins == []
    [(content, on_tls)] = server.messages
    assert not on_tls and b"CONFIDENTIAL-MARKER" in content


def test_default_ports_follow_the_kind_of_tls() -> None:
    assert parse_smtp_url("smtps://u:p@mail.example").port == 465
    assert parse_smtp_url("smtps://u:p@mail.example").security == "tls"
    assert parse_smtp_url("smtp://u:p@mail.example").port == 587
    assert parse_smtp_url("smtp://u:p@mail.example?tls=starttls").security == "starttls"
    relay = parse_smtp_url("smtp://localhost?tls=none")
    assert (relay.port, relay.security) == (25, "none")
    assert PASSWORD not in repr(parse_smtp_url(f"smtp://u:{PASSWORD}@mail.example"))


def test_the_ca_file_setting_accepts_a_pem_ca(
    pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("HEARTH_SMTP_CA_FILE", str(pki.ca_file))
    assert load_settings().hearth_smtp_ca_file == pki.ca_file
