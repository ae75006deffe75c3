"""What every e-mail of the platform shares."""

import re


def tidy_text(text: str) -> str:
    """Templates leave blank lines and trailing spaces where tags were: tidy an e-mail's plain-text part."""
    # "-- " (with its space) is the signature delimiter: the one trailing space kept.
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
