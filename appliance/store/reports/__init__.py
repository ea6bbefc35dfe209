"""The office's figures: queue (from the hub's day records), dossiers, satisfaction.

``periods`` turns a chosen period into office days; ``queue`` and ``dossier_figures`` are
pure functions over rows (dicts as the store's tables give them), so the same code serves
the pages, the exports and the tests; ``load`` reads the rows for a period and an office.
"""
