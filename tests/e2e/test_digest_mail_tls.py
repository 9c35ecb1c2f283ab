"""A mail server that offers no STARTTLS gets no digest; facilitators hear about it as about
any failed delivery, and the log says why and what to change."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.hearth import hearth_world
from tests.e2e.test_digest import DUE_1, digests_in, records, setup_community
from tests.test_mail_tls import PASSWORD, Recorder, free_port

pytestmark = pytest.mark.e2e


async def test_digest_is_not_mailed_in_clear_and_facilitators_are_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server, port = Recorder(), free_port()
    # AUTH offered in clear and no STARTTLS: what stripping STARTTLS on the path looks like.
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=port,
        authenticator=server.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    extra = {
        "HEARTH_SMTP_URL": f"smtp://hearth:{PASSWORD}@127.0.0.1:{port}",
        "HEARTH_SMTP_FROM": "hearth@example.org",
    }
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            sponsor = world.person("sponsor")
            comm = await setup_community(world, sponsor=sponsor, email_to="sponsor@example.org")
            await world.advance_to(DUE_1)
            assert len(digests_in(world.emu.dms_to(sponsor))) == 1  # the DM still went
            assert await records(world, comm.id) == [(DUE_1.isoformat(), "pending", 0, 1)]
            told = [m.content for m in world.emu.dms_to(world.owner)
                    if "e-mail could not be sent" in m.content]  # fmt: skip
            assert len(told) == 1 and "EncryptionNotOffered" in told[0], told
    finally:
        controller.stop()

    assert not server.anything, server
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "does not offer STARTTLS" in errors[0], errors
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)
