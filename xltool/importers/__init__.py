"""Published reports -> submissions: one parser per format, one placer (DESIGN.md §7).

Parsers (``html.py``, ``docx.py``, ``pdf.py``, ``text.py``) know formats and emit the neutral
:class:`~xltool.importers.model.Document`; the placer knows the form and maps it to cells.
"""
