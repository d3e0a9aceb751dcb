"""backupguard: policy-as-code compliance linter and scanner for AWS Backup.

The pipeline: ``scanner`` (sources -> Estate) -> ``resolve`` (facts) ->
``rules`` (engine x catalogue, selected by ``frameworks``) -> ``reports``.
"""

__version__ = "0.1.0"
