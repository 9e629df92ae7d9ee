"""The webhook's Ed25519 key: the platform's published validation example, and verification."""

from __future__ import annotations

from adapters.qq.sign import Signer, seed_of


def test_the_published_address_validation_example() -> None:
    signer = Signer("DG5g3B4j9X2KOErG")
    answer = signer.validation_answer("Arq0D5A61EgUu4OxUvOp", "1725442341")
    assert answer == {
        "plain_token": "Arq0D5A61EgUu4OxUvOp",
        "signature": "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d0"
        "1bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706",
    }


def test_seed_is_the_secret_repeated_and_cut_to_32_bytes() -> None:
    assert seed_of("DG5g3B4j9X2KOErG") == b"DG5g3B4j9X2KOErGDG5g3B4j9X2KOErG"
    assert seed_of("abc") == (b"abc" * 11)[:32]
    assert seed_of("x" * 40) == b"x" * 32


def test_verify_accepts_the_signature_over_timestamp_and_body_only() -> None:
    signer = Signer("DG5g3B4j9X2KOErG")
    body = b'{"op":0,"d":{}}'
    good = signer.sign(b"1725442341" + body)
    assert signer.verify("1725442341", body, good)
    assert not signer.verify("1725442342", body, good)
    assert not signer.verify("1725442341", body + b" ", good)
    assert not signer.verify("1725442341", body, good[:-2] + "00")
    assert not signer.verify("1725442341", body, "not hex")
    assert not signer.verify("1725442341", body, "")
    assert not Signer("another-secret-entirely").verify("1725442341", body, good)
    assert "DG5g" not in repr(signer)
