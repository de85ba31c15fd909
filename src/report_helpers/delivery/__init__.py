"""Delivery of published editions: email to distribution lists, exactly once (`briefing send`).

- `config`: distribution lists (TOML) and SMTP settings (environment variables only);
- `message`: one email per recipient, built with the standard library's `email` package;
- `ledger`: who received which edition, written atomically after each recipient;
- `send`: the steps of `briefing send`, in order.

What a published edition holds (manifest, PDF, key points, changes note) is read by
`publishing.edition`, which the feed shares.
"""
