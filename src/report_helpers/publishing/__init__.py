"""Publishing editions: the reports folder as a store (store.py), crash-safe publishing (publish.py),
a published edition as readers get it (edition.py), the index page (index.py) and the feed (feed.py)."""
