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


def tel_uri(value: str) -> str:
    """The tel: link of a number, or "" when it is not one."""
    number = _parsed(value)
    if number is None:
        return ""
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
