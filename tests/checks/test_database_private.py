from shipyard.checks.rules.database_private import RULE

from .helpers import violations

GOOD = {"PubliclyAccessible": False, "StorageEncrypted": True, "BackupRetentionPeriod": 7, "ManageMasterUserPassword": True,
        "DeletionProtection": True, "DBParameterGroupName": {"Ref": "Params"}}


def _resources(**changes) -> dict:
    props = {**GOOD, **changes}
    return {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {k: v for k, v in props.items() if v is not None}},
            "Params": {"Type": "AWS::RDS::DBParameterGroup", "Properties": {"Parameters": {"rds.force_ssl": "1"}}}}


def test_a_private_encrypted_backed_up_instance_with_a_managed_password_passes():
    assert violations(RULE, _resources(), production=True) == []


def test_each_weakness_is_named():
    cases = {"publicly accessible": {"PubliclyAccessible": True}, "not encrypted": {"StorageEncrypted": False},
             "no automated backups": {"BackupRetentionPeriod": 0},
             "not managed by RDS": {"ManageMasterUserPassword": None, "MasterUserPassword": "hunter22"}}
    for words, change in cases.items():
        found = violations(RULE, _resources(**change))
        assert len(found) == 1 and words in found[0].message, (words, found)


def test_tls_not_required_fails():
    resources = _resources()
    resources["Params"]["Properties"]["Parameters"] = {}
    assert "rds.force_ssl" in violations(RULE, resources)[0].message


def test_deletion_protection_is_required_in_production_only():
    assert violations(RULE, _resources(DeletionProtection=False)) == []
    assert "deletion protection" in violations(RULE, _resources(DeletionProtection=False), production=True)[0].message


def _cluster(**changes) -> dict:
    props = {"StorageEncrypted": True, "BackupRetentionPeriod": 7, "ManageMasterUserPassword": True, "DeletionProtection": True,
             "DBClusterParameterGroupName": {"Ref": "ClusterParams"}, **changes}
    return {"Cluster": {"Type": "AWS::RDS::DBCluster", "Properties": {k: v for k, v in props.items() if v is not None}},
            "Writer": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"},
                                                                      "DBInstanceClass": "db.serverless", "PubliclyAccessible": False}},
            "ClusterParams": {"Type": "AWS::RDS::DBClusterParameterGroup", "Properties": {"Parameters": {"rds.force_ssl": "1"}}}}


def test_an_aurora_cluster_holds_the_settings_and_its_instances_are_judged_on_exposure_alone():
    assert violations(RULE, _cluster(), production=True) == []
    for words, change in {"not encrypted": {"StorageEncrypted": False}, "no automated backups": {"BackupRetentionPeriod": 0},
                          "not managed by RDS": {"ManageMasterUserPassword": None, "MasterUserPassword": "hunter22"},
                          "deletion protection": {"DeletionProtection": False}}.items():
        [found] = violations(RULE, _cluster(**change), production=True)
        assert found.resource == "Cluster" and words in found.message, (words, found)
    unforced = _cluster()
    unforced["ClusterParams"]["Properties"]["Parameters"] = {"rds.force_ssl": "0"}
    assert "rds.force_ssl" in violations(RULE, unforced)[0].message
    public = _cluster()
    public["Writer"]["Properties"]["PubliclyAccessible"] = True
    [found] = violations(RULE, public)
    assert (found.resource, found.message) == ("Writer", "is publicly accessible")
