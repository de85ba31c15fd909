"""Keeping the data current: connectors to the publishers, dated vintages, reviewed updates.

`briefing data update` fetches each connected series (``connectors``) over HTTP (``fetch``), keeps
the file as received as a dated vintage (``vintages``), derives the typed rows from it, compares
them with the accepted table and stages the result with a readable report (``review``, ``stage``).
Nothing under data/ that a build reads changes until `briefing data accept`. The build never fetches.
"""
