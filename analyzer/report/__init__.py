"""The HTML report: what the dataset says, laid out for app owners, self-contained and escaped.

- `html`: the one escaper for text in the page (imports nothing of ours);
- `advice`: what each cause means and what to do about it;
- `text`: names and times in words;
- `charts`: the SVG timeline;
- `data`: the report's data, folded from the events dataset into a small cube;
- `groups`: the cube's groups summed on the categoricals' codes, as pandas' groupby gives them;
- `diagnosis`: the diagnosis section;
- `context`: what surrounds the numbers (changes, method, examples);
- `view`: the page's plain values;
- `assets`: the page's inline style and script;
- `page`: the Jinja2 templates (`analyzer/templates/`, autoescaped) and the Content-Security-Policy;
- `rebuild`: `analyzer report`, the report written again (or one per owner) from an output directory.

Imports `diagnose` (advice's scopes, unverified), `outputs` (aggregate, write), `tokens.keys` and the
base modules; nothing of the scan, engine or run. Each module imports only the ones listed before it.
"""
