"""The reference anchor: the SEP-6 guide's example, complete and runnable on Killick.

Set ``INTEGRATIONS=examples.reference_anchor.integrations``. Its users, KYC data and
simulated bank live in their own SQLite file (``REFERENCE_ANCHOR_DB``, default
``reference_anchor.db``); KYC values are encrypted at rest with Killick's
``ENCRYPTION_KEYS``.
"""
