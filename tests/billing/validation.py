"""The e-invoice checks the standard itself makes: the Factur-X XSD and the CEN's EN 16931 business rules.

The rules are the CEN's own validation artefacts for CII (`en16931/`, vendored unchanged so that a clean
clone runs them), an XSLT 2.0 compiled from the Schematron, run with Saxon-HE (`saxonche`). Compiling takes
about half a second: once per process.
"""

from functools import cache
from pathlib import Path

from facturx import xml_check_xsd
from lxml import etree

RULES = Path(__file__).parent / "en16931" / "EN16931-CII-validation.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@cache
def _rules():
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)  # kept for the process's life: the stylesheet needs it
    stylesheet = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(RULES))
    return processor, stylesheet


def report(xml: bytes) -> etree._Element:
    """The SVRL report of the EN 16931 rules on a CII document."""
    processor, stylesheet = _rules()
    svrl = stylesheet.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    return etree.fromstring(svrl.encode())


def fatal_failures(xml: bytes) -> list[str]:
    """Every broken EN 16931 rule, as "BR-xx: the rule's text" (empty: the invoice holds)."""
    failures = report(xml).iterfind("svrl:failed-assert", SVRL)
    return [
        f"{failure.get('id')}: {' '.join(failure.findtext('svrl:text', '', SVRL).split())}"
        for failure in failures
        if failure.get("flag") == "fatal"
    ]


def xsd_errors(xml: bytes) -> list[str]:
    """What the Factur-X XSD (profile EN 16931) refuses in the document (empty: it is valid)."""
    try:
        xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # the library raises a bare Exception with the schema's message
        return [str(error)]
    return []
