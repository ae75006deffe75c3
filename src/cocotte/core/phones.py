"""Phone numbers as people write them (« 04 71 20 00 00 ») and as links dial them (tel:+33471200000)."""

import phonenumbers


def _parsed(value: str):
    try:
        number = phonenumbers.parse(value or "", "FR")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def as_written(value: str) -> str:
    """French numbers in the national form, others in the international one; anything else as given."""
    number = _parsed(value)
    if number is None:
        return value or ""
    fmt = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(
        number, fmt.NATIONAL if number.country_code == 33 else fmt.INTERNATIONAL
    )


def e164(value: str) -> str | None:
    """The number as stored and dialled (+33471200000), or None when it is not a valid number."""
    number = _parsed(value)
    return None if number is None else phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def tel_uri(value: str) -> str:
    """The tel: link of a number, or "" when it is not one."""
    number = e164(value)
    return "" if number is None else "tel:" + number
