"""Invoice PDFs: an HTML+CSS template (Jinja2) printed by WeasyPrint, and where PDFs are kept."""
