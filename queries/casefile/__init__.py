"""Case files: a vessel or a canned query's findings as one offline HTML file plus Markdown.

:mod:`~queries.casefile.collect` gathers the facts (only through canned queries, so each claim cites the
query row that states it), :mod:`~queries.casefile.render` writes them with the drawings of
:mod:`~queries.casefile.map`, :mod:`~queries.casefile.timeline` and :mod:`~queries.casefile.picture`.
"""
