from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import number_format

from cocotte.core import formats, i18n, phones
from cocotte.core.money import cents

register = template.Library()


@register.simple_tag
def described_widget(field):
    """A field's widget with its help text and its errors tied to it (aria-describedby), for screen readers."""
    ids = []
    optional = not field.field.required and field.widget_type != "checkbox"
    if field.help_text or optional:  # the include writes "Facultatif." in the help text
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def localized(obj, field):
    """`{{ site|localized:"description" }}`: what staff wrote, in the visitor's language (core.i18n)."""
    return i18n.localized(obj, field)


@register.filter
def phone(value):
    """`{{ site.phone|phone }}`: « 04 71 20 00 00 » (core.phones)."""
    return phones.as_written(value)


@register.filter
def phone_uri(value):
    """`{{ site.phone|phone_uri }}`: tel:+33471200000, or "" when it is not a number."""
    return phones.tel_uri(value)


@register.filter
def day(value):
    """`{{ booking.start|day }}`: « mardi 1er décembre 2026 » (a date, or an instant in the active zone)."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return formats.format_day(value) if value else ""


@register.filter
def clock(value):
    """`{{ booking.start|clock }}`: « 9 h 30 » in the active zone."""
    return formats.format_time(value) if value else ""


@register.filter
def period(start, end):
    """`{{ booking.start|period:booking.end }}`: the period as people say it (core.formats)."""
    return formats.describe_period(start, end)


@register.filter
def euros(value):
    """`{{ amount|euros }}`: « 1 234,50 € » in French, « 1,234.50 € » in English (a Decimal or its text)."""
    if value is None or value == "":
        return ""
    amount = cents(value)
    sign = "−" if amount < 0 else ""
    return sign + number_format(abs(amount), 2, use_l10n=True, force_grouping=True) + "\u00a0€"
