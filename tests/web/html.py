"""Reading pages: elements by id, error lists, linked static files."""

from html.parser import HTMLParser


class Page(HTMLParser):
    """Every element's attributes by id, and the text of each error list (by id)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, tuple[str, dict]] = {}
        self.all: list[tuple[str, dict]] = []
        self.errorlists: dict[str, str] = {}
        self.alerts: list[str] = []
        self._open: list[list] = []  # [tag, key, texts, depth]
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.all.append((tag, attributes))
        if "id" in attributes:
            self.by_id.setdefault(attributes["id"], (tag, attributes))
        for item in self._open:
            if item[0] == tag:
                item[3] += 1
        classes = attributes.get("class", "").split()
        if tag == "ul" and "errorlist" in classes and "id" in attributes:
            self._open.append([tag, ("error", attributes["id"]), [], 1])
        elif attributes.get("role") == "alert":
            self._open.append([tag, ("alert", None), [], 1])

    def handle_endtag(self, tag):
        for item in list(self._open):
            if item[0] == tag:
                item[3] -= 1
                if item[3] == 0:
                    self._open.remove(item)
                    kind, key = item[1]
                    text = " ".join("".join(item[2]).split())
                    if kind == "error":
                        self.errorlists[key] = text
                    else:
                        self.alerts.append(text)

    def handle_data(self, data):
        for item in self._open:
            item[2].append(data)


def assert_field_error(response, field_id: str, text: str):
    """The message is in the field's error list, which the field points to, and the field says it is invalid."""
    page = Page(response.content.decode())
    error_id = f"{field_id}_error"
    assert error_id in page.errorlists, (
        f"no #{error_id}; error lists: {page.errorlists}, alerts: {page.alerts}"
    )
    assert text in page.errorlists[error_id], page.errorlists[error_id]
    assert field_id in page.by_id, f"no field #{field_id}"
    _tag, attrs = page.by_id[field_id]
    assert error_id in attrs.get("aria-describedby", "").split(), attrs
    assert attrs.get("aria-invalid") == "true", attrs


def assert_form_alert(response, text: str):
    """A refusal about the whole form: at its top, announced (role="alert")."""
    page = Page(response.content.decode())
    assert any(text in alert for alert in page.alerts), page.alerts


def linked_assets(html: str) -> list[str]:
    """Stylesheets and scripts a page asks for."""
    page = Page(html)
    urls = []
    for tag, attrs in page.all:
        if tag == "link" and "stylesheet" in attrs.get("rel", "").split() and attrs.get("href"):
            urls.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            urls.append(attrs["src"])
    return urls


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def text_of(response) -> str:
    """The page's text as a reader gets it: no tags, whitespace collapsed."""
    parser = _Text()
    parser.feed(response.content.decode())
    return " ".join(" ".join(parser.parts).split())
