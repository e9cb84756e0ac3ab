"""Personal data: encryption at rest, masking for display, and validation of phone and ID numbers."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken

# ASCII digits only: `\d` would also accept Arabic-Indic, Devanagari and other digits that look alike.
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$")
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


class Vault:
    """Encrypts and decrypts personal fields with one Fernet key (AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, key: bytes, secret: bytes) -> None:
        self._fernet = Fernet(key)
        self._secret = secret

    def seal(self, value: str | None) -> str | None:
        """Ciphertext of `value` (None stays None)."""
        if value is None or value == "":
            return None
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, token: str | None) -> str | None:
        """Plaintext of a sealed value; None if absent or unreadable (never an exception to a page)."""
        if not token:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            return None

    def digest(self, value: str) -> str:
        """Keyed hash for values looked up but never shown again (query codes)."""
        return hmac.new(self._secret, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def matches(self, value: str, digest: str) -> bool:
        """Constant-time comparison of `value` with a stored digest."""
        return hmac.compare_digest(self.digest(value), digest)


def normalise_phone(value: str) -> str:
    """NFKC (full-width digits become ASCII), then digits and the landline dash: '１３８ 1234 5678' → '13812345678'."""
    value = unicodedata.normalize("NFKC", value)
    return re.sub(r"[\s()]", "", value).replace("—", "-").replace("–", "-")


def normalise_id_number(value: str) -> str:
    """NFKC (full-width digits and Ｘ become ASCII), spaces removed, the check letter upper case."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", value)).upper()


def is_phone(value: str) -> bool:
    """A mainland mobile (11 digits from 13–19) or a landline with area code, in ASCII digits once normalised."""
    value = normalise_phone(value)
    return bool(MOBILE.match(value) or LANDLINE.match(value))


def is_id_number(value: str) -> bool:
    """An 18-digit resident ID number with a valid GB 11643 check character, in ASCII once normalised."""
    value = normalise_id_number(value)
    if not ID_NUMBER.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def mask_phone(value: str | None) -> str:
    """138****5678; landlines keep area code and last four."""
    if not value:
        return ""
    if MOBILE.match(value):
        return f"{value[:3]}****{value[-4:]}"
    return f"{value[:4]}****{value[-4:]}" if len(value) > 8 else "****"


def mask_id_number(value: str | None) -> str:
    """110***********1234: the region's first three and the last four."""
    if not value:
        return ""
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(value: str | None) -> str:
    """张*, 欧阳** : the family name only."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
