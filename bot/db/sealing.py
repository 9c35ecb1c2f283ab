"""Ballots sealed at rest: what a copy of the data directory can and cannot reveal.

Threat model (the README's "Anonymity" row states it for users):

* Each open anonymous poll and statement round has its own random 32-byte key. Ballots are
  stored under ``HMAC-SHA256(key, user id)`` and their content is encrypted with AES-GCM
  under the same key, padded to one length per poll, so a ciphertext's size says nothing.
* That key is itself stored only *sealed* (AES-GCM) with the installation secret, which
  Hearth keeps outside the database: ``HEARTH_SECRET``, or the key file (default
  ``hearth.key`` beside the database, created on first start with mode 0600). Someone with
  the database file (and its WAL) but not the secret sees who voted and opaque bytes, never
  a choice: the WAL's commit-by-commit history pairs a voter with a ciphertext it cannot
  open. The operator who holds both can link votes while a poll is open, exactly as the
  bot itself must to let a member change their vote.
* At close the poll's ballots are decrypted once, written again in canonical (sorted) order
  with no voter key, the sealed ballots and the sealed key are deleted, and the WAL is
  checkpointed and truncated (``secure_delete`` zeroes freed bytes in the database file).
  From then on nothing in any file Hearth writes holds the poll key, so the pairs in old
  commits cannot be opened by anyone, the secret's holder included.

Nothing here imports discord; repositories call it inside their transactions.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import os
import secrets
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

SECRET_BYTES = 32
KEY_FILE_NAME = "hearth.key"
_NONCE = 12
#: app_state key holding a check value of the secret (not the secret), to notice a wrong one.
CHECK_KEY = "sealing_secret_check"


class SealingError(Exception):
    """The installation secret is missing, malformed or not the one the data was sealed with."""


def parse_secret(text: str) -> bytes:
    """A secret as written in ``HEARTH_SECRET`` or the key file: 64 hex digits or base64."""
    value = text.strip()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != SECRET_BYTES:
        raise SealingError(
            f"the installation secret must be {SECRET_BYTES} bytes written as 64 hex digits "
            '(e.g. the output of `python -c "import secrets; print(secrets.token_hex(32))"`)'
        )
    return raw


def load_or_create_secret(key_file: Path) -> bytes:
    """Read the key file, creating it (0600, written atomically) on first start."""
    if key_file.exists():
        return parse_secret(key_file.read_text("ascii", errors="replace"))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    tmp = key_file.with_name(key_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (secret.hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, key_file)
    log.info("created the installation secret %s (keep it with backups of the database)", key_file)
    return secret


@functools.lru_cache(maxsize=256)
def _cipher(key: bytes) -> AESGCM:
    """One AES-GCM object per poll key (a close opens every ballot of a poll with it)."""
    return AESGCM(key)


def _aad(*parts: object) -> bytes:
    return "|".join(str(p) for p in parts).encode()


class Sealer:
    """Seals per-poll keys with the installation secret, and ballots with a poll key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != SECRET_BYTES:
            raise SealingError("the installation secret must be 32 bytes")
        self._wrap = AESGCM(secret)
        self.check_value = hmac.new(secret, b"hearth sealing check v1", hashlib.sha256).hexdigest()
        # Unsealed keys by sealed blob: a poll key is unsealed once, not on every vote.
        self._keys: dict[bytes, bytes] = {}

    # ------------------------------------------------------------------ poll keys
    def new_key(self, scope: str, item_id: int) -> tuple[bytes, bytes]:
        """A fresh random key for one poll or round, and its sealed form for the database."""
        key = secrets.token_bytes(32)
        nonce = secrets.token_bytes(_NONCE)
        sealed = nonce + self._wrap.encrypt(nonce, key, _aad("key", scope, item_id))
        self._keys[sealed] = key
        return key, sealed

    def unseal_key(self, scope: str, item_id: int, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        key = self._keys.get(sealed)
        if key is None:
            try:
                key = self._wrap.decrypt(
                    sealed[:_NONCE], sealed[_NONCE:], _aad("key", scope, item_id)
                )
            except InvalidTag as exc:
                raise SealingError(
                    f"{scope} {item_id}: its ballot key was sealed with another installation "
                    "secret; restore the key file this database was used with"
                ) from exc
            if len(self._keys) > 4096:
                self._keys.clear()
            self._keys[sealed] = key
        return key

    def forget_key(self, sealed: bytes | None) -> None:
        if sealed is not None:
            key = self._keys.pop(bytes(sealed), None)
            if key is not None:
                _cipher.cache_clear()  # no cipher of a closed poll's key stays in memory

    # ------------------------------------------------------------------ ballots
    @staticmethod
    def voter_key(key: bytes, user_id: int) -> bytes:
        """Pseudonymous ballot key: unlinkable without the poll key."""
        return hmac.digest(key, str(user_id).encode(), "sha256")  # one call, same HMAC

    @staticmethod
    def seal(key: bytes, plaintext: bytes, *, pad_to: int, aad: bytes) -> bytes:
        """Encrypt, padded to ``pad_to`` bytes so every ballot of a poll has one length."""
        return Sealer.seal_many(key, [(plaintext, aad)], pad_to=pad_to)[0]

    @staticmethod
    def seal_many(key: bytes, items: Iterable[tuple[bytes, bytes]], *, pad_to: int) -> list[bytes]:
        """:meth:`seal` for many ``(plaintext, aad)`` under one key (a batch of votes on one
        poll): the same format, with the cipher looked up once and every nonce drawn from one
        call to the system's random source instead of one call per ballot."""
        pairs = list(items)
        encrypt = _cipher(key).encrypt
        nonces = secrets.token_bytes(_NONCE * len(pairs))
        sealed = []
        for i, (plaintext, aad) in enumerate(pairs):
            body = len(plaintext).to_bytes(2, "big") + plaintext
            if len(body) < pad_to:
                body += bytes(pad_to - len(body))
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            sealed.append(nonce + encrypt(nonce, body, aad))
        return sealed

    @staticmethod
    def open(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
        sealed = bytes(sealed)
        body = _cipher(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
        (n,) = struct.unpack(">H", body[:2])
        return body[2 : 2 + n]

    @staticmethod
    def open_many(key: bytes, sealed_and_aad: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
        """:meth:`open` for many ballots under one key (a close opens every ballot of a poll
        or round): the same checks, with the per-call overhead paid once. Raises
        ``InvalidTag`` if any ballot does not open."""
        decrypt = _cipher(key).decrypt
        opened = []
        for sealed, aad in sealed_and_aad:
            body = decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
            opened.append(body[2 : 2 + int.from_bytes(body[:2], "big")])
        return opened


def ballot_aad(scope: str, item_id: int, voter: bytes, extra: int = 0) -> bytes:
    """Binds a sealed ballot to its poll (or statement) and voter: rows cannot be swapped."""
    return _aad("ballot", scope, item_id, extra, voter.hex())


def ballot_aads(scope: str, item_id: int) -> Callable[[bytes, int], bytes]:
    """``ballot_aad(scope, item_id, voter, extra)`` as a function of (voter, extra) for one
    poll or round, for opening or sealing many ballots: each voter's hex is made once."""
    prefix = _aad("ballot", scope, item_id) + b"|"
    hexes: dict[bytes, bytes] = {}

    def aad(voter: bytes, extra: int = 0) -> bytes:
        tail = hexes.get(voter)
        if tail is None:
            tail = hexes[voter] = b"|" + voter.hex().encode()
        return prefix + str(extra).encode() + tail

    return aad
