"""Phone and ID numbers: one normalisation (NFKC, then ASCII digits only), used for checking and for storing."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms_api.models import Case
from forms_api.privacy import is_id_number, is_phone, mask_phone, normalise_id_number, normalise_phone
from tests.conftest import submit_form
from tests.factories import complaint_data

# Every decimal digit Unicode knows, ASCII's excepted: full-width, Arabic-Indic, Devanagari, mathematical …
DIGITS = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Nd" and not chr(c).isascii()]


def _ascii(digit: str) -> bool:
    """Whether NFKC turns this digit into an ASCII one (full-width and mathematical digits do)."""
    return unicodedata.normalize("NFKC", digit).isascii()


def test_the_table_covers_look_alikes_of_both_kinds() -> None:
    assert len(DIGITS) > 600 and any(_ascii(d) for d in DIGITS) and not all(_ascii(d) for d in DIGITS)


def test_a_digit_counts_only_if_it_normalises_to_ascii() -> None:
    wrong = []
    for digit in DIGITS:
        phone = "1381234567" + digit
        if is_phone(phone) is not _ascii(digit) or (_ascii(digit) and not normalise_phone(phone).isascii()):
            wrong.append(f"phone U+{ord(digit):04X}")
        # An ID number whose every 5 is written in this script: the check character stays right.
        if unicodedata.digit(digit) == 5 and is_id_number("11010519491231002X".replace("5", digit)) is not _ascii(
            digit
        ):
            wrong.append(f"ID number U+{ord(digit):04X}")
    assert wrong == []


@pytest.mark.parametrize(
    ("typed", "phone"),
    [("１３８１２３４５６７８", "13812345678"), ("138 1234 5678", "13812345678"), ("（0575）86123400", "057586123400"),
     ("0575－86123400", "0575-86123400"), ("0575—86123400", "0575-86123400")],
)  # fmt: skip
def test_phone_numbers_are_stored_in_ascii(typed: str, phone: str) -> None:
    assert normalise_phone(typed) == phone and is_phone(typed)


@pytest.mark.parametrize(
    "typed", ["１１０１０５１９４９１２３１００２Ｘ", "110105 19491231 002x", "11010519491231002ｘ"]
)
def test_id_numbers_are_stored_in_ascii(typed: str) -> None:
    assert normalise_id_number(typed) == "11010519491231002X" and is_id_number(typed)


def test_a_complaint_in_full_width_digits_is_stored_in_ascii(client: FlaskClient, app: Flask) -> None:
    data = complaint_data(phone="１３８１２３４５６７８", id_number="１１０１０５１９４９１２３１００２ｘ")
    assert submit_form(client, "/forms/complaint/", data).status_code == 303
    vault = app.extensions["vault"]
    with app.extensions["sessions"]() as session:
        case = session.scalars(select(Case)).one()
        assert vault.open(case.phone_enc) == "13812345678" and vault.open(case.id_number_enc) == "11010519491231002X"
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(("field", "value"), [("phone", "١٣٨١٢٣٤٥٦٧٨"), ("id_number", "११०१०५१९४९१२३१००२X")])
def test_other_scripts_digits_are_refused_with_the_field_message(
    client: FlaskClient, app: Flask, field: str, value: str
) -> None:
    response = submit_form(client, "/forms/complaint/", complaint_data(**{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and ("请输入11位手机号码" in page or "身份证号码有误" in page)
