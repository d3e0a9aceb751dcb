"""Which third-party check labels in ``../shared/corpus/expected.json`` our rules cover.

Shared by the corpus agreement test and ``benchmarks/accuracy.py`` (run ``python tests/corpus_labels.py`` for the
list of disagreements with their explanations).
Each entry: check id -> (rule, parameters that make our rule ask the same question).
"""

from __future__ import annotations

import json

from backupguard.scanner import scan

from conftest import CORPUS, lint_paths

CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TF_SUFFIXES = (".tf",)

COVERED = {
    "E3504": ("BG102", {}),
    "CKV_AWS_166": ("BG201", {}),
    "CKV_AWS_28": ("BG301", {}),
    "CKV_AWS_165": ("BG301", {}),
    "DYNAMODB_PITR_ENABLED": ("BG301", {}),
    "0f04217d-488f-4e7a-bec8-f16159686cd6": ("BG301", {}),  # KICS: DynamoDB PITR disabled
    "DB_INSTANCE_BACKUP_ENABLED": ("BG302", {"check_read_replicas": "true"}),  # Guard checks replicas
    "8c415f6f-7b90-4a27-a44a-51047e1506f9": ("BG302", {}),  # KICS: RDS with backup disabled
    "e649a218-d099-4550-86a4-1231e1fcb60d": ("BG303", {"check_read_replicas": "true"}),  # KICS: < 7 days, replicas too
    "CKV_AWS_360": ("BG303", {}),
    "CKV_AWS_361": ("BG303", {}),
    "AVD-AWS-0077": ("BG303", {"minimum_retention_days": "2"}),  # Trivy: longer than the 1-day default
    "EFS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": ("BG401", {}),
    # Guard's FSx check reads AutomaticBackupRetentionDays: FSx's own backups, not an AWS Backup plan.
    "FSX_RESOURCES_PROTECTED_BY_BACKUP_PLAN": ("BG308", {}),
    "S3_BUCKET_VERSIONING_ENABLED": ("BG309", {}),
    "a227ec01-f97a-4084-91a4-47b350c1db54": ("BG309", {}),  # KICS: S3 bucket without versioning
    "AVD-AWS-0090": ("BG309", {}),  # Trivy: S3 data should be versioned
    # Terraform labels
    "CKV_AWS_133": ("BG302", {}),  # Checkov: RDS backup retention 1-35
    "CKV2_AWS_8": ("BG401", {}),  # Checkov graph checks: in a backup plan
    "CKV2_AWS_9": ("BG401", {}),
    "CKV2_AWS_18": ("BG401", {}),
    "741f1291-47ac-4a85-a07b-3d32a9d6bd3e": ("BG301", {}),  # KICS: DynamoDB PITR (Terraform)
    "1dc73fb4-5b51-430c-8c5f-25dcf9090b02": ("BG302", {}),  # KICS: RDS with backup disabled (Terraform)
    "e542bd46-58c4-4e0f-a52a-1fb4f9548e02": ("BG302", {}),  # KICS: RDS cluster with backup disabled
    "568a4d22-3517-44a6-a7ad-6a7eed88722c": ("BG309", {}),  # KICS: S3 bucket without versioning (Terraform)
    "AVD-AWS-0024": ("BG301", {}),  # Trivy: DynamoDB PITR
}
VERDICTS = {"PASS": "pass", "FAIL": "fail", "NOT_FLAGGED": "pass", "UNKNOWN": "unknown"}

# Labels we believe are wrong, with the reason (checked by the corpus test, reported in notes).
_FSX_DEFAULT = (
    "AutomaticBackupRetentionDays is omitted; FSx's CreateFileSystem reference gives a default of 30 days for "
    "Windows, ONTAP and OpenZFS, so automatic backups are on. Guard requires the property to be written."
)
DISPUTED = {
    ("FSX_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "scenario_08.yaml", "FileSystem"): _FSX_DEFAULT,
    ("FSX_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "scenario_10.yaml", "FileSystem"): _FSX_DEFAULT,
    ("FSX_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "scenario_12.yaml", "FileSystem"): _FSX_DEFAULT,
}


_KICS_EXPLICIT = (
    "KICS flags an omitted backup_retention_period; AWS's default for a database created through the API "
    "(which Terraform uses) is 1 day, so automated backups are on (BG303 reports the short retention)."
)
_REGISTRY = "the label is on a module call whose source is not in the corpus (registry or missing local folder)"
_ATTACHED = (
    "same finding, reported on the bucket: aws_s3_bucket_versioning sets versioning of aws_s3_bucket.b0 to "
    "Suspended, and backupguard reports the bucket whose versioning it is"
)
DISPUTED.update({
    ("e542bd46-58c4-4e0f-a52a-1fb4f9548e02", "positive1.tf", "aws_rds_cluster.postgresql"): _KICS_EXPLICIT,
    ("1dc73fb4-5b51-430c-8c5f-25dcf9090b02", "positive3.tf", "aws_db_instance.positive1"): _KICS_EXPLICIT,
    ("568a4d22-3517-44a6-a7ad-6a7eed88722c", "positive7.tf", "aws_s3_bucket.b0"): _ATTACHED,
    ("568a4d22-3517-44a6-a7ad-6a7eed88722c", "positive7.tf", "aws_s3_bucket_versioning.example"): _ATTACHED,
})


def disputed(row: dict) -> str | None:
    if row["resource"].startswith("module.") and not row["ours"] and not row["present"] and not row["agrees"]:
        return _REGISTRY
    return DISPUTED.get((row["check"], row["file"].rsplit("/", 1)[-1], row["resource"]))


def _same_resource(label: str, resource_id: str | None) -> bool:
    """A label names a CloudFormation logical ID, a Terraform address or a module ("module.db")."""
    rid = resource_id or ""
    return rid == label or rid.startswith(label + "[") or (label.startswith("module.") and rid.startswith(label + "."))


def comparisons() -> list[dict]:
    """One row per labelled (file, check, resource) that a rule covers, with our verdict.

    A label PASS (or KICS's NOT_FLAGGED) agrees when we report no fail and no
    unknown for the resource (a rule that does not apply to it, such as BG102 on
    a plan without cold storage, reports nothing); FAIL agrees when we report a
    fail; UNKNOWN when we report unknown. ``present`` says whether the resource
    is in our Estate at all, so a vacuous "not flagged" is visible.
    """
    expected = json.loads((CORPUS / "expected.json").read_text("utf-8"))
    rows = []
    for rel, checks in sorted(expected.items()):
        if not rel.endswith(CFN_SUFFIXES + TF_SUFFIXES):
            continue
        estate = scan([CORPUS / rel])
        present = {e.resource_id for name in ("plans", "vaults", "resources") for e in getattr(estate, name)
                   if e.origin.file is None or e.origin.file.endswith(rel)}
        for check_id, resources in sorted(checks.items()):
            if check_id not in COVERED:
                continue
            rule_id, params = COVERED[check_id]
            results = [r for r in lint_paths([CORPUS / rel], params={rule_id: params} if params else None)
                       if r.file and r.file.endswith(rel)]
            for resource, verdict in sorted(resources.items()):
                if verdict not in VERDICTS or resource == "<template>":
                    continue
                ours = sorted({r.status for r in results if r.rule_id == rule_id and _same_resource(resource, r.resource_id)})
                wanted = VERDICTS[verdict]
                if wanted == "fail":
                    agrees = "fail" in ours
                elif wanted == "unknown":
                    agrees = ours == ["unknown"]
                else:
                    agrees = not ({"fail", "unknown"} & set(ours))
                rows.append(
                    {"file": rel, "check": check_id, "rule": rule_id, "resource": resource, "label": verdict,
                     "ours": ours, "agrees": agrees,
                     "present": any(_same_resource(resource, rid) for rid in present)}
                )
    return rows


def precision_recall(rows: list[dict]) -> tuple[float, float]:
    """Of our fails, the share labelled FAIL; of the FAIL labels, the share we fail."""
    true_pos = sum(1 for r in rows if r["label"] == "FAIL" and "fail" in r["ours"])
    false_pos = sum(1 for r in rows if r["label"] != "FAIL" and "fail" in r["ours"])
    false_neg = sum(1 for r in rows if r["label"] == "FAIL" and "fail" not in r["ours"])
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    return precision, recall


if __name__ == "__main__":  # pragma: no cover - a report for closing notes
    table = comparisons()
    agreeing = sum(row["agrees"] for row in table)
    print(f"{agreeing}/{len(table)} labelled verdicts agree (CloudFormation and Terraform)")
    print("precision %.3f, recall %.3f" % precision_recall(table))
    for row in table:
        if not row["agrees"]:
            why = disputed(row) or "NOT EXPLAINED"
            print(f"  DISAGREE {row['check']} {row['file']} {row['resource']}: label {row['label']}, ours {row['ours']}: {why}")
