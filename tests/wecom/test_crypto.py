"""WeCom's callback crypto: round trips, WeCom's own construction, and what is refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.wecom.crypto import Crypto, Refused, aes_key, signature
from tests.wecom.sender import AES_KEY, TOKEN, wecom_encrypt, wecom_sign

CORP = "ww0123456789abcdef"
crypto = Crypto(TOKEN, AES_KEY, CORP)
keys = st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode()[:43])


@given(message=st.binary(max_size=3000), random16=st.binary(min_size=16, max_size=16), key=keys)
def test_round_trip(message: bytes, random16: bytes, key: str) -> None:
    c = Crypto(TOKEN, key, CORP)
    sealed = c.encrypt(message, random16)
    assert len(base64.b64decode(sealed)) % 32 == 0  # PKCS#7 to 32, not 16
    assert c.open(c.sign("1780000000", "n", sealed), "1780000000", "n", sealed) == message


@given(message=st.binary(max_size=500), random16=st.binary(min_size=16, max_size=16))
def test_matches_wecoms_construction(message: bytes, random16: bytes) -> None:
    assert crypto.encrypt(message, random16) == wecom_encrypt(AES_KEY, CORP, message, random16)
    assert crypto.decrypt(wecom_encrypt(AES_KEY, CORP, message)) == message


def test_signature_is_sha1_over_the_sorted_four() -> None:
    assert signature("b", "a", "d", "c") == wecom_sign("b", "a", "d", "c")
    assert len(signature("t", "1", "n", "x")) == 40


def test_tampered_signature_is_refused() -> None:
    sealed = wecom_encrypt(AES_KEY, CORP, b"<xml/>")
    good = wecom_sign(TOKEN, "1", "n", sealed)
    bad = ("0" if good[0] != "0" else "1") + good[1:]
    with pytest.raises(Refused, match="signature"):
        crypto.open(bad, "1", "n", sealed)
    with pytest.raises(Refused, match="signature"):
        crypto.open(good, "2", "n", sealed)  # a replayed signature with another timestamp


def test_wrong_corp_id_is_refused() -> None:
    sealed = wecom_encrypt(AES_KEY, "wwSomeOtherCorp", b"<xml/>")
    with pytest.raises(Refused, match="receiver"):
        crypto.open(wecom_sign(TOKEN, "1", "n", sealed), "1", "n", sealed)


@pytest.mark.parametrize("cut", [1, 16, 32])
def test_truncated_ciphertext_is_refused(cut: int) -> None:
    raw = base64.b64decode(wecom_encrypt(AES_KEY, CORP, b"<xml>" + b"x" * 100 + b"</xml>"))
    short = base64.b64encode(raw[:-cut]).decode()
    with pytest.raises(Refused):
        crypto.open(wecom_sign(TOKEN, "1", "n", short), "1", "n", short)


def test_garbage_is_refused_not_raised() -> None:
    for text in ("", "not base64!", base64.b64encode(b"\x00" * 32).decode()):
        with pytest.raises(Refused):
            crypto.open(wecom_sign(TOKEN, "1", "n", text), "1", "n", text)


@pytest.mark.parametrize("key", ["short", AES_KEY + "A", "!" * 43])
def test_bad_aes_keys(key: str) -> None:
    with pytest.raises(ValueError):
        aes_key(key)


def test_repr_shows_no_secret() -> None:
    assert TOKEN not in repr(crypto) and AES_KEY not in repr(crypto)
