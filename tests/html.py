"""Reading rendered pages in tests by their structure and text, never by their line breaks or
indentation (the templates are formatted by djlint; a reformat must not break a test).

`select` and `one` query the parsed page with CSS selectors (tinyhtml5, cssselect2: the parser
and selector engine WeasyPrint already brings); `text` is an element's text with its spaces
collapsed; `flat` is the whole page with its spaces collapsed and none next to a tag, for the
few checks that look for a fragment of markup.
"""

import re
from xml.etree.ElementTree import Element

import cssselect2
import tinyhtml5

XHTML = "{http://www.w3.org/1999/xhtml}"


def select(html: str, selector: str) -> list[Element]:
    """The elements of the page that match the CSS `selector`, in document order."""
    root = cssselect2.ElementWrapper.from_html_root(tinyhtml5.parse(html))
    return [match.etree_element for match in root.query_all(selector)]


def one(html: str, selector: str) -> Element:
    """The only element that matches `selector` (the test fails on none or several)."""
    found = select(html, selector)
    assert len(found) == 1, f"{len(found)} elements match {selector!r}"
    return found[0]


def text(element: Element) -> str:
    """The element's text, as a reader sees it: every run of spaces and line breaks as one."""
    return " ".join("".join(element.itertext()).split())


def tag(element: Element) -> str:
    return element.tag.removeprefix(XHTML)


def flat(html: str) -> str:
    """The page with its spaces collapsed and none beside a tag's angle brackets."""
    return re.sub(r"\s*([<>])\s*", r"\1", " ".join(html.split()))
