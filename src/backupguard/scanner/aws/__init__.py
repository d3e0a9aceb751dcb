"""The live AWS source: accounts, Regions and an Organization read into the Estate.

Read-only by construction (``readonly``); boto3 is imported only when a scan starts, so
importing backupguard (or ``lint``) never imports it.
"""

from __future__ import annotations

from backupguard.scanner.aws.live import LiveOptions, Progress, scan_live, shard_of

__all__ = ["LiveOptions", "Progress", "scan_live", "shard_of"]
