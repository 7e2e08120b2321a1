"""``xltool review``: a supervisor's review of published reports, across units and years (values in, values out)."""
