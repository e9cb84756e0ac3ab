"""The base form and small validators with plain Chinese instructions."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from flask import flash, render_template, session
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import Field, Form, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from forms_api.privacy import is_id_number, is_phone


def _strip(value: Any) -> Any:
    """Surrounding whitespace and NUL characters go (PostgreSQL refuses NUL in text)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form strips surrounding whitespace from every field."""

    class Meta:
        locales = ("zh",)  # WTForms' own messages ("Not a valid choice") in Chinese

        def bind_field(self, form: Form, unbound_field: Any, options: dict[str, Any]) -> Field:
            filters = [*unbound_field.kwargs.get("filters", []), _strip]
            return unbound_field.bind(form=form, filters=filters, **options)


class Honeypot(BaseForm):
    """Public forms carry a field people never see; bots fill it."""

    website = StringField("网址（请勿填写）")


TOKEN = re.compile(r"^[0-9a-f]{32}$")


def form_token(value: str | None) -> str | None:
    """The hidden per-form token (uuid4 hex) or None: a crafted value can never match an API retry key."""
    return value if value and TOKEN.match(value) else None


def refill(form: Any, exc: Exception, template: str) -> ResponseReturnValue:
    """A reused token with new content: the form again, as filled in, under a fresh token (409). A receipt an
    earlier citizen left waiting in this browser's session goes too: it is never shown to the next one."""
    session.pop("receipt", None)
    form.token.data = uuid.uuid4().hex
    flash(str(exc), "error")
    return render_template(template, form=form), 409


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Select-box choices in the form WTForms 3.3+ expects."""
    return [SelectChoice(value, label) for value, label in pairs]


def phone(message: str = "请输入11位手机号码，或带区号的固定电话（如 0575-86123400）") -> Any:
    """A mainland mobile or landline number."""

    def check(_form: Form, field: Field) -> None:
        if field.data and not is_phone(field.data):
            raise ValidationError(message)

    return check


def id_number(message: str = "身份证号码有误，请核对（18位，最后一位可能是 X）") -> Any:
    """An 18-digit resident ID with a valid check character (optional field)."""

    def check(_form: Form, field: Field) -> None:
        if field.data and not is_id_number(field.data):
            raise ValidationError(message)

    return check
