"""Staff passwords: argon2 hashes, and a wrong user name costs the same hash as a wrong password."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher

from forms_api import passwords


def test_a_hash_verifies_its_password_only() -> None:
    stored = passwords.hash_password("correct-horse-1")
    assert stored.startswith("$argon2id$") and "correct-horse-1" not in stored
    assert passwords.verify_password(stored, "correct-horse-1")
    assert not passwords.verify_password(stored, "correct-horse-2")
    assert not passwords.verify_password("not-a-hash", "correct-horse-1")


def test_an_unknown_account_costs_one_hash_too(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "hasher", Counting(time_cost=1, memory_cost=1024, parallelism=1))
    assert not passwords.verify_password(None, "anything")
    assert not passwords.verify_password(passwords.hash_password("x" * 10), "anything")
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)
