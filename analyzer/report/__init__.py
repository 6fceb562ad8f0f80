"""The HTML report: what the dataset says, laid out for app owners, self-contained and escaped.

- `html`: the one escaper for text in the page (imports nothing of ours);
- `data`: the report's data, folded from the events dataset; `text`: names and times in words;
- `diagnosis`, `charts`: the diagnosis section and the SVG timeline;
- `view`: the page's plain values, `context` what surrounds them (changes, method, examples);
- `page`: the Jinja2 templates (`analyzer/templates/`, autoescaped) and the Content-Security-Policy;
  `assets`: its inline style and script.

Nothing here imports the scan, the engine or the pipeline.
"""
